"""Dataset loading and augmentation for the Veracity detector.

Works on any folder holding a manifest.csv with the columns
  path,label,modality,group,source_repo,generator,license,sha256,notes
of which only path and label are required (label in real|synthetic|semisynthetic; only image rows are used).

* Grids: rows whose notes say "2x2 grid" (or whose group ends in "grid2x2") are cut into 4 tiles.
* Several folders: build_items takes one root, a list of roots or a comma-separated string of roots (e.g. the
  shared dataset plus the local ESRGAN pairs from make_synthetic.py); each item remembers its root, so preload and
  load_image read it from the right folder whatever root they are handed.
* Derived rows: a "src_group=G" token in notes (make_synthetic.py writes it) names the group a row was made from;
  train.py drops such rows when G is held out, so a fold never trains on a re-saved copy of a held-out photo.
* Pairs: a "pair=KEY" token in notes links items (an AI edit and its source photo); the split unit of an item is
  its pair key (else its path), so both sides of a pair always land on the same side of any split.
* Shortcut neutralisation (every class treated identically): square random crops, random rescale x0.5-1.5,
  random interpolation, re-encoding of every sample with random JPEG/WebP quality (sometimes twice).
"""
from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

LABEL_INDEX = {"real": 0, "synthetic": 1, "semisynthetic": 2}
PAIR_RE = re.compile(r"pair=([^;,\s]+)")
SRC_GROUP_RE = re.compile(r"src_group=([^;,\s]+)")
ROBUST_CHAIN = (("jpeg", 55), ("webp", 75), ("jpeg", 80))


# ../shared/datasets beside the checkout: every script's --data default (users pass their own folders)
DEFAULT_DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "datasets"))
REQUIRED_COLUMNS = ("path", "label")
# the dataset's columns, in the order make_synthetic.py and video_frames.py write their manifests
COLUMNS = ["path", "label", "modality", "group", "source_repo", "generator", "license", "sha256", "notes"]
VIDEO_RE = re.compile(r"\.(mp4|m4v|webm|mov|mkv|avi|mpe?g|ogv)$", re.I)


def modality_of(path: str) -> str:
    return "video" if VIDEO_RE.search(path) else "image"


def read_manifest(root: str) -> list[dict]:
    """Rows of root/manifest.csv with the same tolerance as the TypeScript reader (models/src/dataset.ts), so a
    set that veracity-eval scores can also be trained on: only path and label are required; a byte-order mark,
    padded or capitalised header names and label case are tolerated; a missing modality comes from the file
    extension and a missing group is 'ungrouped'. Rows with an absolute path or a '..' segment are dropped
    (they would read outside root)."""
    with open(os.path.join(root, "manifest.csv"), newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{root}/manifest.csv lacks the column(s) {', '.join(missing)}")
        rows = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            r = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header)}
            r["path"] = r["path"].strip()
            if not r["path"] or r["path"].startswith("/") or ".." in r["path"].replace("\\", "/").split("/"):
                continue
            r["label"] = r["label"].strip().lower()
            r["modality"] = (r.get("modality") or "").strip().lower() or modality_of(r["path"])
            r["group"] = (r.get("group") or "").strip() or "ungrouped"
            rows.append(r)
        return rows


def is_grid(row: dict) -> bool:
    return "2x2 grid" in (row.get("notes") or "") or row["group"].endswith("grid2x2")


def unit_of(row: dict) -> str:
    m = PAIR_RE.search(row.get("notes") or "")
    return f"{row['group']}|pair={m.group(1)}" if m else row["path"]


def data_roots(roots: str | list[str] | tuple[str, ...]) -> list[str]:
    """Normalises --data values: a path, a comma-separated list of paths, or a list of either."""
    if isinstance(roots, str):
        roots = [roots]
    out = [p.strip() for r in roots for p in r.split(",") if p.strip()]
    if not out:
        raise ValueError("no data folder given")
    return out


def build_items(roots: str | list[str]) -> list[dict]:
    """One item per image (4 per 2x2 grid): {root, path, tile, label, y, group, unit, src_group}."""
    items = []
    seen_groups: dict[str, str] = {}
    for root in data_roots(roots):
        for r in read_manifest(root):
            if r["modality"] != "image" or r["label"] not in LABEL_INDEX:
                continue
            # a group split over two folders would silently merge two sources in per-group metrics
            if seen_groups.setdefault(r["group"], root) != root:
                raise ValueError(f"group {r['group']} appears in both {seen_groups[r['group']]} and {root}")
            m = SRC_GROUP_RE.search(r.get("notes") or "")
            base = {"root": root, "path": r["path"], "label": r["label"], "y": LABEL_INDEX[r["label"]], "group": r["group"],
                    "unit": unit_of(r), "src_group": m.group(1) if m else ""}
            if is_grid(r):
                for t in range(4):
                    items.append({**base, "tile": t})
            else:
                items.append({**base, "tile": -1})
    return items


def pair_partners(items: list[dict]) -> list[list[int]]:
    """Per item, the indices of the items of its pair unit on the other side of real / AI (same tile of a grid)."""
    by_unit: dict[tuple, list[int]] = {}
    for i, it in enumerate(items):
        if "|pair=" in it["unit"]:
            by_unit.setdefault((it["unit"], it["tile"]), []).append(i)
    out = []
    for it in items:
        mates = by_unit.get((it["unit"], it["tile"]), [])
        out.append([m for m in mates if (items[m]["y"] == 0) != (it["y"] == 0)])
    return out


def unit_hash(unit: str, seed: int = 0) -> float:
    h = hashlib.sha1(f"{seed}:{unit}".encode()).hexdigest()
    return int(h[:8], 16) / 0xFFFFFFFF


def split_items(items, val_frac=0.15, seed=0):
    """Random split by unit (pairs and grid tiles stay together), val_frac of every group."""
    train, val = [], []
    for it in items:
        (val if unit_hash(it["unit"], seed) < val_frac else train).append(it)
    return train, val


def fold_split(items, holdout: set[str], val_frac=0.15, seed=0):
    """A train.py run's (train, val, held) items: the held-out groups' items apart; rows derived from a held-out
    group's photos (make_synthetic.py pairs, src_group=) dropped, since they would leak its content; the rest split
    by split_items. Evaluations that re-score a run rebuild its items with this, in the same order."""
    held = [it for it in items if it["group"] in holdout]
    rest = [it for it in items if it["group"] not in holdout and it["src_group"] not in holdout]
    train, val = split_items(rest, val_frac, seed)
    return train, val, held


def fit_max_side(im: Image.Image, max_side: int) -> Image.Image:
    """The runtime's native-* rule: an image whose longer side passes max_side is shrunk to it (bilinear)."""
    w, h = im.size
    if max_side and max(w, h) > max_side:
        k = max_side / max(w, h)
        im = im.resize((max(1, round(w * k)), max(1, round(h * k))), Image.BILINEAR)
    return im


def real_sources(root: str, groups: str, val_frac: float, skip_faces: bool = False) -> list[dict]:
    """Real image rows of root's manifest whose group matches one of the comma-separated globs, minus the sources in
    the validation split (unit hash < val_frac, seed 0: the split train.py uses), so no validation photo's content
    reaches training through a pair made from it. skip_faces also leaves out the faces-* groups."""
    globs = [g for g in groups.split(",") if g]
    return [
        r
        for r in read_manifest(root)
        if r["modality"] == "image"
        and r["label"] == "real"
        and any(fnmatch.fnmatch(r["group"], g) for g in globs)
        and not (skip_faces and r["group"].startswith("faces-"))
        and unit_hash(unit_of(r), 0) >= val_frac
    ]


def append_manifest(out: str):
    """OUT/images/ and OUT/manifest.csv opened for appending (header written when new), for the pair makers: returns
    (file, csv writer, paths already listed), so a rerun can skip what an interrupted run wrote."""
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    man = os.path.join(out, "manifest.csv")
    done = []
    if os.path.exists(man):
        with open(man, newline="") as f:
            done = [r["path"] for r in csv.DictReader(f)]
    new = not os.path.exists(man)
    f = open(man, "a", newline="")
    wr = csv.DictWriter(f, fieldnames=COLUMNS)
    if new:
        wr.writeheader()
    return f, wr, done


def load_image(root: str, item: dict, max_side: int = 0) -> np.ndarray:
    # From bytes, not a path: PIL's TIFF plugin dups and closes file descriptors, and in preload's threads that
    # raced another decode ("OSError: [Errno 9] Bad file descriptor" on the v2 set's TIFFs).
    with open(os.path.join(item.get("root") or root, item["path"]), "rb") as f:
        im = Image.open(io.BytesIO(f.read()))
        im = im.convert("RGB")
    if item["tile"] >= 0:
        w, h = im.size
        tx, ty = item["tile"] % 2, item["tile"] // 2
        im = im.crop((tx * w // 2, ty * h // 2, (tx + 1) * w // 2, (ty + 1) * h // 2))
    return np.asarray(fit_max_side(im, max_side), dtype=np.uint8).copy()


def preload(root: str, items: list[dict], threads: int = 2, max_side: int = 0) -> list[np.ndarray]:
    """Decodes every item once (uint8 HWC); tiles are cut here. max_side > 0 shrinks what the runtime's native-*
    crop policy would shrink anyway (same rule), so camera-size photos (12 MP = 36 MB decoded) fit in memory."""
    with ThreadPoolExecutor(threads) as ex:
        return list(ex.map(lambda it: load_image(root, it, max_side), items))


# ---------------------------------------------------------------- codecs and deterministic transforms
def encode(im: Image.Image, fmt: str, q: int) -> Image.Image:
    buf = io.BytesIO()
    if fmt == "jpeg":
        im.save(buf, format="JPEG", quality=int(q))
    else:
        im.save(buf, format="WEBP", quality=int(q))
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out.convert("RGB")


def apply_chain(im: Image.Image, chain=ROBUST_CHAIN) -> Image.Image:
    for fmt, q in chain:
        im = encode(im, fmt, q)
    return im


def resize_shorter(im: Image.Image, s: int) -> Image.Image:
    w, h = im.size
    k = s / min(w, h)
    return im.resize((max(s, round(w * k)), max(s, round(h * k))), Image.BILINEAR, reducing_gap=None)


def crops_for_policy(im: Image.Image, size: int, policy: dict) -> list[Image.Image]:
    """Python mirror of the runtime crop policies in manifest.crop (used for validation and parity)."""
    p = policy["policy"]
    if p == "squash":
        return [im.resize((size, size), Image.BILINEAR)]
    if p == "resize-center":
        im = resize_shorter(im, size)
        w, h = im.size
        l, t = (w - size) // 2, (h - size) // 2
        return [im.crop((l, t, l + size, t + size))]
    if p in ("native-center", "native-five"):
        im = fit_max_side(im, policy.get("maxSide", 1024))
        if min(im.size) < size:
            im = resize_shorter(im, size)
        w, h = im.size
        l, t = (w - size) // 2, (h - size) // 2
        out = [im.crop((l, t, l + size, t + size))]
        if p == "native-five":
            out += [
                im.crop((0, 0, size, size)),
                im.crop((w - size, 0, w, size)),
                im.crop((0, h - size, size, h)),
                im.crop((w - size, h - size, w, h)),
            ]
        return out
    raise ValueError(f"unknown crop policy {p}")


def to_chw(im: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8).transpose(2, 0, 1))


# ---------------------------------------------------------------- training augmentation
INTERP = [Image.BILINEAR, Image.BICUBIC, Image.LANCZOS, Image.BOX]


def augment(arr: np.ndarray, size: int, rng: np.random.Generator, native_frac: float = 0.0,
            reencode: float = 1.0) -> np.ndarray:
    """Random square crop at a random scale (x0.5-1.5), flips, colour, blur, noise, JPEG/WebP. Returns CHW uint8.

    native_frac: share of crops taken at scale 1 (no resampling). Why: the runtime's native-center policy feeds
    unresampled pixels, where a generator's upsampling grid survives; a model that only ever saw resampled crops
    has neither seen that grid nor the test-time pixel statistics.
    reencode: share of samples re-encoded after cropping (1.0 up to 1.8.0). Why below 1: a decoder's trace (the
    TAE round trips, PSNR 28-37 dB) is fainter than what JPEG q50 removes; a model that never sees an untouched
    crop cannot learn it (EXPERIMENTS.md, "Re-encoding share").
    """
    im = Image.fromarray(arr)
    w, h = im.size
    # Occasionally compress the whole image before cropping (JPEG grid of the source, like a re-shared file).
    if rng.random() < 0.2:
        im = encode(im, "jpeg" if rng.random() < 0.6 else "webp", rng.integers(50, 96))
    native = rng.random() < native_frac
    scale = 1.0 if native else math.exp(rng.uniform(math.log(0.5), math.log(1.5)))
    side = size / scale
    if side > min(w, h):
        side = min(w, h)  # image too small for this scale: take the largest square and upscale more
    side = max(8, int(round(side)))
    l = int(rng.integers(0, w - side + 1))
    t = int(rng.integers(0, h - side + 1))
    im = im.crop((l, t, l + side, t + side))
    if side != size:
        im = im.resize((size, size), INTERP[int(rng.integers(0, len(INTERP)))])
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    if rng.random() < 0.3:
        im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.8, 1.2))
        im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.8, 1.2))
        im = ImageEnhance.Color(im).enhance(rng.uniform(0.7, 1.3))
    if rng.random() < 0.15:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    if rng.random() < 0.15:
        a = np.asarray(im, dtype=np.float32) + rng.normal(0, rng.uniform(1, 6), (size, size, 3))
        im = Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8))
    # Re-encode (every class alike): JPEG or WebP at a random quality, sometimes a chain of two.
    # (no extra draw at reencode=1, so earlier recipes' random streams are unchanged)
    skip = reencode < 1.0 and rng.random() >= reencode
    n_codec = 0 if skip else 1 if rng.random() < 0.75 else 2
    for _ in range(n_codec):
        im = encode(im, "jpeg" if rng.random() < 0.6 else "webp", rng.integers(50, 96))
    return to_chw(im)


def sample_weights(items: list[dict], upweight: dict[str, float]) -> np.ndarray:
    """Per-item sampling weight: each group gets mass ~ sqrt(size) x its upweight; real and AI halves balanced."""
    groups = {}
    for it in items:
        groups.setdefault(it["group"], 0)
        groups[it["group"]] += 1
    w = np.zeros(len(items))
    for i, it in enumerate(items):
        g = it["group"]
        up = 1.0
        for pat, f in upweight.items():
            if fnmatch.fnmatch(g, pat):
                up = f
        w[i] = up * math.sqrt(groups[g]) / groups[g]
    is_ai = np.array([it["y"] != 0 for it in items])
    if is_ai.any() and (~is_ai).any():
        w[is_ai] *= 0.5 / w[is_ai].sum()
        w[~is_ai] *= 0.5 / w[~is_ai].sum()
    return w / w.sum()


def parse_upweight(spec: str) -> dict[str, float]:
    out = {}
    for part in filter(None, (spec or "").split(",")):
        k, v = part.split("=")
        out[k.strip()] = float(v)
    return out


# ---------------------------------------------------------------- local edits
def region_mask(side: int, rng: np.random.Generator) -> np.ndarray:
    """A soft-edged mask in [0, 1], side x side: one ellipse, rectangle or brush-stroke blob covering 8-50 %."""
    m = Image.new("L", (side, side), 0)
    d = ImageDraw.Draw(m)
    kind = int(rng.integers(3))
    area = rng.uniform(0.08, 0.5) * side * side
    aspect = float(np.exp(rng.uniform(-0.7, 0.7)))
    w = min(side, int(np.sqrt(area * aspect)))
    h = min(side, int(area / max(w, 1)))
    l, t = int(rng.integers(0, side - w + 1)), int(rng.integers(0, side - h + 1))
    if kind == 0:
        d.ellipse((l, t, l + w, t + h), fill=255)
    elif kind == 1:
        d.rectangle((l, t, l + w, t + h), fill=255)
    else:  # a brush blob: a chain of thick strokes inside the box, like a user's inpainting mask
        pts = [(l + rng.uniform(0, w), t + rng.uniform(0, h)) for _ in range(int(rng.integers(3, 7)))]
        d.line(pts, fill=255, width=max(8, int(min(w, h) * rng.uniform(0.3, 0.6))), joint="curve")
    feather = side * rng.uniform(0.01, 0.04)
    return np.asarray(m.filter(ImageFilter.GaussianBlur(feather)), dtype=np.float32) / 255
