"""Checks the PyTorch port of the nsfwjs MobileNetV2 against the original running under tfjs in Node.

Usage: /usr/bin/python3 -m models.train verify-nsfwjs --nsfwjs /tmp/train-deps/node_modules/nsfwjs \
          [--data ../shared/datasets] [--runs models/train/runs] [--n 6]
Runs port_nsfwjs.cjs (dumping the weights into --runs) on N dataset images resized to 224 px, then compares the
pooled out_relu features and the 5 nsfwjs class probabilities. Prints the max abs differences.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
from .data import DEFAULT_DATA, read_manifest
from .mobilenet_port import MobileNetV2Keras, NsfwjsOriginalHead, load_nsfwjs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nsfwjs", required=True)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--runs", default=os.path.join(HERE, "runs"))
    ap.add_argument("--n", type=int, default=6)
    args = ap.parse_args()
    os.makedirs(args.runs, exist_ok=True)
    rows = [r for r in read_manifest(args.data) if r["modality"] == "image"]
    rng = np.random.default_rng(0)
    pick = [rows[i] for i in rng.choice(len(rows), args.n, replace=False)]
    s = 224
    xs = []
    for r in pick:
        im = Image.open(os.path.join(args.data, r["path"])).convert("RGB").resize((s, s), Image.BILINEAR)
        xs.append(np.asarray(im, dtype=np.float32) / 255.0)
    x = np.stack(xs).astype("<f4")  # NHWC
    inp = os.path.join(args.runs, "nsfwjs_check_input.bin")
    x.tofile(inp)
    subprocess.run(["node", os.path.join(HERE, "port_nsfwjs.cjs"), args.nsfwjs, args.runs, inp, str(args.n), str(s)], check=True)
    ref_f = np.fromfile(os.path.join(args.runs, "nsfwjs_check_features.bin"), dtype="<f4").reshape(args.n, 1280)
    ref_p = np.fromfile(os.path.join(args.runs, "nsfwjs_check_probs.bin"), dtype="<f4").reshape(args.n, 5)

    net = MobileNetV2Keras(cut="full")
    load_nsfwjs(net, args.runs)
    full = NsfwjsOriginalHead(net, args.runs).eval()
    with torch.no_grad():
        f, p = full(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous())
    df = np.abs(f.numpy() - ref_f).max()
    dp = np.abs(p.numpy() - ref_p).max()
    print(f"images: {[r['path'] for r in pick]}")
    print(f"feature scale (max |f|): {np.abs(ref_f).max():.4f}")
    print(f"max abs diff pooled features: {df:.3e}")
    print(f"max abs diff nsfwjs probabilities: {dp:.3e}")
    print("torch probs:", np.round(p.numpy(), 4).tolist())
    print("tfjs  probs:", np.round(ref_p, 4).tolist())
    ok = dp < 1e-3
    print("PORT OK" if ok else "PORT MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
