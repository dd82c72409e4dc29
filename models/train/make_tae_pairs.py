"""Aligned training triplets from real photos through the five latent-diffusion autoencoders (tae.py).

Usage (from the repo root; CPU-heavy, run it niced; resumable: a rerun continues after the last triplet written):
  nice -n 10 /usr/bin/python3 -m models.train tae-pairs --data ../shared/datasets --out models/train/runs/tae \
      [--families sd,sdxl,sd3,flux1,flux2] [--per-photo 1] [--groups 'photos-*,photo-pairs-*,...'] [--n 0]

Why: a real photo and its own round trip through an LDM family's decoder differ only by that decoder's trace
(Rajan et al., ICLR 2025, "aligned datasets"), so the model cannot lean on content, size or format to tell them
apart. For each picked real photo and family:
  1. crop = a square crop at native resolution, side 256-448 (encode at >= 256 px: smaller inputs reconstruct with
     edge effects), a multiple of 8;
  2. full = its encode -> decode round trip through the family's autoencoder: label `synthetic`;
  3. region = the crop with only a random soft-edged region (ellipse or rectangle or brush blob, 8-50 % of the
     area, Gaussian-feathered edge) replaced by the round trip: label `semisynthetic` (an inpainting-like edit);
  4. all three leave through the identical final path: the same random downscale (sometimes) and the same JPEG
     quality, so the only differences inside a triplet are the decoder's trace and where it is.
Rows go to OUT/manifest.csv (the dataset's columns) in group tae-<family>; the three files share a pair= key (one
split unit) and src_group= names the source group (a leave-groups-out fold drops triplets made from its held-out
photos). Sources in the dataset's validation split (unit hash < --val-frac, seed 0, as train.py splits) are
skipped, so no validation photo's content reaches training through a triplet.
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import os
import time

import numpy as np
import torch
from PIL import Image

from .data import DEFAULT_DATA, append_manifest, real_sources, region_mask
from .tae import DEFAULT_WEIGHTS, DESCRIBES, FAMILIES, TAE

REAL_GROUPS = "photos-*,photo-pairs-*,ai-edits-*,faces-ffhq,faces-composite-real"
TAESD_REPO = "madebyollin/taesd (MIT)"
FAMILIES_INDEX = {f: i for i, f in enumerate(FAMILIES)}  # a family's own random stream per photo


def jpeg_bytes(im: Image.Image, q: int) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=int(q))
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tae-weights", default=DEFAULT_WEIGHTS, help="folder with the TAESD files (../shared/weights/tae)")
    ap.add_argument("--families", default=",".join(FAMILIES), help=f"subset of {','.join(FAMILIES)}")
    ap.add_argument("--per-photo", type=int, default=1, help="families per photo (distinct, drawn per photo); 5 = every family")
    ap.add_argument("--groups", default=REAL_GROUPS, help="source groups (globs); real image rows only")
    ap.add_argument("--first-groups", default="", help="globs of source groups to process first (e.g. the zero-generator test's photo groups)")
    ap.add_argument("--n", type=int, default=0, help="stop after this many triplets in total (0: every source)")
    ap.add_argument("--min-side", type=int, default=256)
    ap.add_argument("--max-side", type=int, default=448)
    ap.add_argument("--val-frac", type=float, default=0.15, help="skip sources in this validation split (seed 0)")
    ap.add_argument("--group-prefix", default="tae", help="rows go to groups PREFIX-<family> (a second set in another folder needs its own prefix)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    fams = [f for f in args.families.split(",") if f]
    for f in fams:
        if f not in FAMILIES:
            raise SystemExit(f"unknown family {f!r}: expected some of {','.join(FAMILIES)}")
    per = max(1, min(args.per_photo, len(fams)))

    rows = real_sources(args.data, args.groups, args.val_frac)
    if not rows:
        raise SystemExit(f"no real image rows of {args.data}/manifest.csv match --groups {args.groups}")
    rng = np.random.default_rng(args.seed)
    order = list(rng.permutation(len(rows)))
    first = [g for g in args.first_groups.split(",") if g]
    if first:  # stable: the listed groups' photos first, each part in the seeded order
        order.sort(key=lambda i: 0 if any(fnmatch.fnmatch(rows[i]["group"], g) for g in first) else 1)

    f, wr, listed = append_manifest(args.out)
    done = {p.split("/")[-1].rsplit("_", 1)[0] for p in listed}
    total = len(order) * per if not args.n else min(args.n, len(order) * per)
    print(f"{len(rows)} source photos x {per} famil{'y' if per == 1 else 'ies'}; {len(done)} triplets already written", flush=True)
    nets: dict[str, TAE] = {}
    t0, made, new_made = time.time(), len(done), 0
    for k, idx in enumerate(order):
        if args.n and made >= args.n:
            break
        r = rows[idx]
        # each photo's random choices come from its own stream (seed, k): a resumed run makes the same triplets
        prng = np.random.default_rng((args.seed, int(k)))
        picks = [fams[int(i)] for i in prng.permutation(len(fams))[:per]]
        src = None
        for fam in picks:
            key = f"tae{k:05d}-{fam}"
            frng = np.random.default_rng((args.seed, int(k), FAMILIES_INDEX[fam]))
            if key in done or (args.n and made >= args.n):
                continue
            if src is None:
                src = Image.open(os.path.join(args.data, r["path"])).convert("RGB")
            w, h = src.size
            hi = min(w, h, args.max_side) // 8 * 8
            if hi < args.min_side:
                break  # too small to encode without edge effects
            side = int(frng.integers(args.min_side // 8, hi // 8 + 1)) * 8
            l, t = int(frng.integers(0, w - side + 1)), int(frng.integers(0, h - side + 1))
            crop = np.asarray(src.crop((l, t, l + side, t + side)), dtype=np.uint8)
            if fam not in nets:
                nets[fam] = TAE(fam, args.tae_weights)
            full = nets[fam].round_trip(crop)
            m = region_mask(side, frng)[..., None]
            region = (crop * (1 - m) + full.astype(np.float32) * m + 0.5).astype(np.uint8)
            # the final path, identical for the three: sometimes a downscale (same size, same filter), one JPEG quality
            out_side = side
            if frng.random() < 0.3:
                out_side = max(128, int(side * frng.uniform(0.5, 0.9)))
            resample = [Image.BILINEAR, Image.BICUBIC, Image.LANCZOS][int(frng.integers(3))]
            q = int(frng.integers(80, 96))
            gen = f"{DESCRIBES[fam]} autoencoder round trip (TAESD-family tiny autoencoder {FAMILIES[fam][0]}, MIT)"
            common = (
                f"pair={key}; src={r['group']}/{r['path']}; src_group={r['group']}; family={fam}; crop={l},{t},{side}; "
                f"final={out_side}px JPEG q{q}; made by models/train/make_tae_pairs.py"
            )
            for tag, label, arr, g, lic, repo, extra in (
                ("rt", "synthetic", full, gen, f"MIT (autoencoder); source photo: {r['license']}", f"{TAESD_REPO}; source: {r['source_repo']}", ""),
                ("rg", "semisynthetic", region, gen + ", pasted into a soft-edged region", f"MIT (autoencoder); source photo: {r['license']}",
                 f"{TAESD_REPO}; source: {r['source_repo']}", f"; region={float(m.mean()):.2f}"),
                ("hr", "real", crop, "none (source photo, through the same crop, resize and JPEG path)", r["license"], r["source_repo"], ""),
            ):
                im = Image.fromarray(arr)
                if out_side != side:
                    im = im.resize((out_side, out_side), resample)
                data = jpeg_bytes(im, q)
                rel = f"images/{key}_{tag}.jpg"
                with open(os.path.join(args.out, rel), "wb") as g2:
                    g2.write(data)
                wr.writerow({"path": rel, "label": label, "modality": "image", "group": f"{args.group_prefix}-{fam}", "source_repo": repo,
                             "generator": g, "license": lic, "sha256": hashlib.sha256(data).hexdigest(), "notes": common + extra})
            f.flush()
            made += 1
            new_made += 1
            if new_made % 20 == 0:
                el = time.time() - t0
                left = (total - made) * el / new_made
                print(f"{made}/{total} triplets, {el:.0f}s elapsed, ~{left / 60:.0f} min left", flush=True)
    f.close()
    print(f"done: {made} triplets in {args.out} ({time.time() - t0:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
