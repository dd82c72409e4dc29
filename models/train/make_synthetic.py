"""Makes semisynthetic training pairs locally: real photos run through a generative upscaler (ESRGAN/RDN).

Usage (from the repo root; CPU-heavy, run it niced):
  nice -n 19 /usr/bin/python3 -m models.train pairs --data ../shared/datasets \
      --out models/train/runs/synth-esrgan --n 400 [--upscalerjs /tmp/train-deps/node_modules/@upscalerjs]

For each picked real photo (groups matching --groups; faces-only groups are not picked, so the pairs are scenes,
people, objects — the content the art-heavy AI groups lack):
  1. HR = a crop of the photo at native resolution (at most --max-side, sides a multiple of the scale);
  2. LR = HR downsampled x2 or x4 with a random kernel (box / bilinear / bicubic / lanczos / Gaussian blur then
     decimation), sometimes JPEG-compressed (q 70-95) like a re-shared small image;
  3. SR = the ESRGAN upscale of LR (same size as HR), from @upscalerjs/esrgan-slim or -medium (RDN) or
     esrgan-legacy/gans (GAN-trained RRDN, x4 only, group local-rrdn-gan-x4), ported to PyTorch by esrgan_port.py
     (parity with tfjs checked there); or, with --models ae, no LR at all: SR = HR round-tripped through the
     latent autoencoder autoencoder.py trained on real photos (group local-ae-f<factor>, e.g. local-ae-f4: a
     latent-diffusion-style decoder);
  4. SR and HR leave through the identical final path: the same random square crop box, JPEG q90 (the dataset's
     own convention), so the only difference between the two files of a pair is the generator.
Written into OUT/images/ with OUT/manifest.csv (same columns as the dataset; group local-esrgan-x2 / -x4, SR rows
labelled semisynthetic, HR rows real; both sides share a pair= key; src_group= names the source group so a
leave-groups-out fold can drop pairs made from its held-out photos). Sources in the dataset's validation split
(unit hash < --val-frac with seed 0, the split train.py uses) are skipped, so no validation photo's content reaches
training through a pair. The manifest is appended pair by pair: an interrupted run leaves a usable folder, and a
rerun continues after the last pair written.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import time

import numpy as np
import torch
from PIL import Image, ImageFilter

HERE = os.path.dirname(os.path.abspath(__file__))
from .autoencoder import load_ae, reconstruct
from .data import DEFAULT_DATA, append_manifest, real_sources
from .esrgan_port import load_esrgan, upscale

MODELS = {  # package -> (version, licence); weights: idealo image-super-resolution (RDN / RRDN) trained on DIV2K
    "esrgan-slim": ("1.0.0", "MIT"),
    "esrgan-medium": ("1.0.0", "MIT"),
    "esrgan-legacy": ("1.0.0", "MIT"),
}
# --models entries are PACKAGE or PACKAGE/VARIANT; a variant is a fixed-scale model folder with its own group,
# architecture and description. gans: RRDN trained with an adversarial + perceptual loss, which paints plausible
# texture instead of the smooth average a PSNR-trained RDN produces, i.e. a second, more generative kind of trace.
VARIANTS = {"gans": {"scale": 4, "group": "local-rrdn-gan-x4", "arch": "idealo RRDN, GAN-trained, DIV2K"}}


# "ae": a round trip through the latent autoencoder autoencoder.py trains on real photos (a decoder of the
# latent-diffusion kind; --ae names its checkpoint). No downsampling: the whole frame is re-painted at full size.
AE = "ae"


def parse_model(spec: str) -> tuple[str, str]:
    pkg, _, variant = spec.partition("/")
    if pkg == AE and not variant:
        return pkg, ""
    if pkg not in MODELS or (variant and variant not in VARIANTS):
        raise SystemExit(f"unknown model {spec!r}: expected one of {sorted(MODELS)} (variants: {sorted(VARIANTS)})")
    return pkg, variant


KERNELS = ["box", "bilinear", "bicubic", "lanczos", "gauss"]


def downsample(im: Image.Image, scale: int, kernel: str, rng: np.random.Generator) -> Image.Image:
    w, h = im.size
    size = (w // scale, h // scale)
    if kernel == "gauss":
        # anti-alias blur then plain decimation (sigma ~ scale/2, randomised)
        im = im.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.35, 0.65)) * scale))
        return im.resize(size, Image.NEAREST)
    return im.resize(size, {"box": Image.BOX, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}[kernel])


def jpeg(im: Image.Image, q: int) -> tuple[Image.Image, bytes]:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=int(q))
    data = buf.getvalue()
    out = Image.open(io.BytesIO(data))
    out.load()
    return out.convert("RGB"), data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=400, help="pairs to make (in total, counting pairs already written)")
    ap.add_argument("--upscalerjs", default="/tmp/train-deps/node_modules/@upscalerjs")
    ap.add_argument("--models", default="esrgan-slim,esrgan-medium", help="PACKAGE[/VARIANT] under --upscalerjs, mixed at random (e.g. esrgan-legacy/gans)")
    ap.add_argument("--ae", default=os.path.join(HERE, "runs", "ae2", "ae.pt"), help="autoencoder.py checkpoint for --models ae")
    ap.add_argument("--scales", default="2,4")
    ap.add_argument("--groups", default="photo-pairs-*,photos-*,ai-edits-*", help="source groups (globs); real rows only")
    ap.add_argument("--max-side", type=int, default=512, help="HR crop side limit (x2 costs 4x the LR compute of x4)")
    ap.add_argument("--max-side-x2", type=int, default=384)
    ap.add_argument("--val-frac", type=float, default=0.15, help="skip sources in this validation split (seed 0)")
    ap.add_argument("--quality", type=int, default=90)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    rows = real_sources(args.data, args.groups, args.val_frac, skip_faces=True)
    if not rows:
        raise SystemExit("no source rows match --groups")
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(rows))
    models = [parse_model(m) for m in args.models.split(",") if m]
    scales = [int(s) for s in args.scales.split(",")]
    nets: dict = {}  # (package, variant, scale) or AE -> loaded network

    f, wr, listed = append_manifest(args.out)
    done = {p.split("/")[-1].split("_")[0] for p in listed}
    print(f"{len(rows)} candidate sources; {len(done)} pairs already written", flush=True)

    t0 = time.time()
    made = len(done)
    for k, idx in enumerate(order):
        if made >= args.n:
            break
        key = f"esr{k:05d}"
        # every pair's random choices come from its own stream, so a resumed run makes the same pairs
        prng = np.random.default_rng((args.seed, k))
        model, variant = models[int(prng.integers(len(models)))]
        # drawn even when a fixed-scale variant overrides it, so the rest of the pair's stream stays the same
        scale = scales[int(prng.integers(len(scales)))]
        if variant:
            scale = VARIANTS[variant]["scale"]
        if model == AE:
            if AE not in nets:
                nets[AE] = load_ae(args.ae)
            scale = nets[AE].factor  # crop sides must be multiples of the autoencoder's factor
        kernel = KERNELS[int(prng.integers(len(KERNELS)))]
        lr_q = int(prng.integers(70, 96)) if prng.random() < 0.5 else 0
        if key in done:
            continue
        r = rows[idx]
        src = Image.open(os.path.join(args.data, r["path"])).convert("RGB")
        w, h = src.size
        lim = args.max_side_x2 if scale == 2 else args.max_side
        cw, ch = min(w, lim) // scale * scale, min(h, lim) // scale * scale
        if min(cw, ch) < 128:
            continue
        l = int(prng.integers(0, w - cw + 1))
        t = int(prng.integers(0, h - ch + 1))
        hr = src.crop((l, t, l + cw, t + ch))
        if model == AE:
            sr = Image.fromarray(reconstruct(nets[AE], np.asarray(hr)))
        else:
            lr = downsample(hr, scale, kernel, prng)
            if lr_q:
                lr, _ = jpeg(lr, lr_q)
            if (model, variant, scale) not in nets:
                nets[(model, variant, scale)] = load_esrgan(os.path.join(args.upscalerjs, model), scale, variant)
            sr = Image.fromarray(upscale(nets[(model, variant, scale)], np.asarray(lr)))
        assert sr.size == hr.size, (sr.size, hr.size)
        # identical final path for both sides: same square crop box, same JPEG quality
        side = min(cw, ch)
        fl = int(prng.integers(0, cw - side + 1))
        ft = int(prng.integers(0, ch - side + 1))
        box = (fl, ft, fl + side, ft + side)
        if model == AE:
            cfg = nets[AE].config
            # a GAN-trained decoder paints differently from an L1 one: its own group, so both sets can train together
            gan = "-gan" if cfg.get("gan") else ""
            group = f"local-ae-f{cfg['factor']}{gan}"
            gen = f"models/train/autoencoder.py round trip (latent f{cfg['factor']}, {cfg['zch']} ch, {cfg['steps']} steps on real training photos{', PatchGAN loss' if gan else ''})"
            lic, repo = f"MIT (model trained by this project); source photo: {r['license']}", f"models/train/autoencoder.py; source: {r['source_repo']}"
            how = "lr_kernel=none; lr_jpeg=none"
        else:
            group = VARIANTS[variant]["group"] if variant else f"local-esrgan-x{scale}"
            pkg = f"@upscalerjs/{model}@{MODELS[model][0]}"
            arch = f"{variant} ({VARIANTS[variant]['arch']})" if variant else f"x{scale} (idealo RDN, DIV2K)"
            gen = f"{pkg} {arch} on a x{scale}-downsampled real photo"
            lic, repo = f"{MODELS[model][1]} (model); source photo: {r['license']}", f"npm:{pkg}; source: {r['source_repo']}"
            how = f"lr_kernel={kernel}; lr_jpeg={lr_q or 'none'}"
        common = (
            f"pair={key}; src={r['group']}/{r['path']}; src_group={r['group']}; {how}; "
            f"crop={l + fl},{t + ft},{side}; final=JPEG q{args.quality}; made by models/train/make_synthetic.py"
        )
        for label, im, gen, lic, repo in (
            ("semisynthetic", sr, gen, lic, repo),
            ("real", hr, "none (source photo, re-saved through the same crop and JPEG path)", r["license"], r["source_repo"]),
        ):
            _, data = jpeg(im.crop(box), args.quality)
            rel = f"images/{key}_{'sr' if label != 'real' else 'hr'}.jpg"
            with open(os.path.join(args.out, rel), "wb") as g:
                g.write(data)
            wr.writerow(
                {
                    "path": rel,
                    "label": label,
                    "modality": "image",
                    "group": group,
                    "source_repo": repo,
                    "generator": gen,
                    "license": lic,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "notes": common,
                }
            )
        f.flush()
        made += 1
        if made % 10 == 0:
            print(f"{made} pairs, {time.time() - t0:.0f}s", flush=True)
    f.close()
    print(f"done: {made} pairs in {args.out} ({time.time() - t0:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
