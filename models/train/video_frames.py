"""Turns a dataset's video rows into image rows (frames) that train.py and evaluate.py read like any other set.

Usage (from the repo root; needs ffmpeg/ffprobe on PATH or in $VERACITY_FFMPEG / $VERACITY_FFPROBE):
  /usr/bin/python3 -m models.train frames --data ../shared/datasets --out models/train/runs/frames16 --frames 16

For each video row of DATA/manifest.csv (optionally only --groups globs): K frames at the times the runtime
samples a clip (models/src/classify.ts sampleFrameTimes: (i + 0.5) * duration / K), written losslessly as PNG so
the training augmentation (random rescale, JPEG/WebP re-encoding) treats frames of every label alike. A time past
the last decodable frame (a clip's duration can run 1/fps past its last frame) steps back until ffmpeg returns one.

OUT/manifest.csv has the dataset's columns: label and group of the clip, modality image, and in notes
"pair=<repository>" (source_repo without its commit, else the clip path), so the split keeps every frame of one
repository's clips on one side: frames of one clip are near-duplicates, and clips of one repository share a
pipeline, so splitting by frame or clip would score the model on what it trained on. A rerun skips clips already
written (the manifest is appended clip by clip).
"""
from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import os
import re
import subprocess
import sys
import time

from .data import COLUMNS, DEFAULT_DATA, read_manifest

# "clip=PATH" in a frame row's notes names the clip it came from (the resume below and evaluate.py clips read it)
CLIP_RE = re.compile(r"clip=([^;]+)")
FFMPEG = os.environ.get("VERACITY_FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("VERACITY_FFPROBE", "ffprobe")


def duration_of(path: str) -> float:
    out = subprocess.run([FFPROBE, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True).stdout.strip()
    d = float(out) if out and out != "N/A" else 0.0
    if not d > 0:
        raise ValueError(f"ffprobe found no duration in {path}")
    return d


def frame_png(path: str, seconds: float) -> tuple[bytes, float]:
    """PNG bytes of the frame shown at `seconds`, stepping back 1/8 s at a time past the end of the stream."""
    t = seconds
    while True:
        png = subprocess.run([FFMPEG, "-v", "error", "-ss", f"{t:.3f}", "-i", path, "-frames:v", "1",
                              "-f", "image2pipe", "-c:v", "png", "-"], capture_output=True, check=True).stdout
        if png:
            return png, t
        if t <= 0:
            raise ValueError(f"ffmpeg returned no frame of {path}")
        t = max(0.0, t - 0.125)


def frame_times(duration: float, k: int) -> list[float]:
    return [(i + 0.5) * duration / k for i in range(k)]


def split_key(row: dict) -> str:
    repo = (row.get("source_repo") or "").split("@")[0].strip()
    return (repo or row["path"]).replace(",", "_").replace(";", "_").replace(" ", "_")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DATA, help="dataset folder with manifest.csv")
    ap.add_argument("--out", required=True)
    ap.add_argument("--frames", type=int, default=16, help="frames per clip")
    ap.add_argument("--groups", default="*", help="comma-separated globs on group names")
    args = ap.parse_args()

    globs = [g.strip() for g in args.groups.split(",") if g.strip()]
    clips = [r for r in read_manifest(args.data)
             if r["modality"] == "video" and any(fnmatch.fnmatch(r["group"], g) for g in globs)]
    os.makedirs(os.path.join(args.out, "frames"), exist_ok=True)
    manifest = os.path.join(args.out, "manifest.csv")
    done: set[str] = set()
    if os.path.exists(manifest):
        with open(manifest, newline="", encoding="utf-8") as f:
            done = {m.group(1) for r in csv.DictReader(f) if (m := CLIP_RE.search(r["notes"] or ""))}
    new = not os.path.exists(manifest)
    failed = 0
    started = time.time()
    with open(manifest, "a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        if new:
            w.writeheader()
        for n, row in enumerate(clips, 1):
            if row["path"] in done:
                continue
            src = os.path.join(args.data, row["path"])
            try:
                d = duration_of(src)
                frames = [frame_png(src, t) for t in frame_times(d, args.frames)]
            except (subprocess.CalledProcessError, ValueError) as e:
                failed += 1
                print(f"\nskipped {row['path']}: {e}", file=sys.stderr)
                continue
            stem = os.path.splitext(row["path"])[0].replace("/", "__")
            rows = []
            for i, (png, t) in enumerate(frames):
                rel = f"frames/{stem}__f{i:02d}.png"
                with open(os.path.join(args.out, rel), "wb") as out:
                    out.write(png)
                rows.append({"path": rel, "label": row["label"], "modality": "image", "group": row["group"],
                             "source_repo": row.get("source_repo", ""), "generator": row.get("generator", ""),
                             "license": row.get("license", ""), "sha256": hashlib.sha256(png).hexdigest(),
                             "notes": f"pair={split_key(row)}; clip={row['path']}; frame {i + 1}/{args.frames} at {t:.3f} s"})
            w.writerows(rows)  # whole clips only: an interrupted run never leaves half a clip behind
            f.flush()
            print(f"\r[{n}/{len(clips)}] {time.time() - started:.0f} s", end="", file=sys.stderr, flush=True)
    print(f"\n{len(clips) - failed} clips, {failed} skipped -> {manifest}", file=sys.stderr)


if __name__ == "__main__":
    main()
