"""Tiny autoencoders (TAESD family, MIT) of five latent-diffusion families, loaded from ../shared/weights/tae.

Why: most images made by today's generators leave the model through its autoencoder's decoder. A real photo
round-tripped through that decoder is a content-matched image with only the decoder's trace added ("aligned"
pairs, Rajan et al., ICLR 2025), which is what make_tae_pairs.py trains on.

The network is the one ../shared/weights/README.md describes (written from that description; keys are the indices
of two plain nn.Sequential stacks). FLUX.2's pair adds a residual "pool" branch in the lowest-resolution Blocks.

  /usr/bin/python3 -m models.train tae --check PHOTO.jpg      # round-trip PSNR per family (a port sanity check)
  /usr/bin/python3 -m models.train tae --export DIR [--check PHOTO.jpg]   # one ONNX round trip per family + tae.json

The ONNX files are what a validator runs (onnxruntime-node) to make fresh AI challenges from its own real photos
(issue 24): input "pixels" uint8 RGB NCHW [1, 3, H, W] (H, W multiples of 8), output "roundtrip" the same shape.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WEIGHTS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "weights", "tae"))

# family -> (file stem, latent channels, extension, pool branch); the group name a pair is filed under is tae-<family>
FAMILIES = {
    "sd": ("taesd", 4, "safetensors", False),  # SD 1.x / 2.x
    "sdxl": ("taesdxl", 4, "safetensors", False),  # SDXL and its fine-tunes
    "sd3": ("taesd3", 16, "safetensors", False),  # SD3 / SD3.5
    "flux1": ("taef1", 16, "safetensors", False),  # FLUX.1 (HiDream, Z-Image share it)
    "flux2": ("taef2", 32, "pth", True),  # FLUX.2
}
# what each family stands for, for the manifest's generator column
DESCRIBES = {
    "sd": "Stable Diffusion 1.x/2.x",
    "sdxl": "SDXL",
    "sd3": "Stable Diffusion 3/3.5",
    "flux1": "FLUX.1",
    "flux2": "FLUX.2",
}


def conv(n_in: int, n_out: int, **kw) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kw)


class Block(nn.Module):
    def __init__(self, n_in: int, n_out: int, pool: bool = False):
        super().__init__()
        self.conv = nn.Sequential(conv(n_in, n_out), nn.ReLU(), conv(n_out, n_out), nn.ReLU(), conv(n_out, n_out))
        self.skip = nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()
        self.fuse = nn.ReLU()
        if pool:
            self.pool = nn.Sequential(
                nn.Conv2d(n_in, 4 * n_in, 1, bias=False), nn.GroupNorm(4, 4 * n_in), nn.ReLU(), nn.Conv2d(4 * n_in, n_in, 1, bias=False)
            )
        else:
            self.pool = None

    def forward(self, x):
        if self.pool is not None:
            x = x + self.pool(x)
        return self.fuse(self.conv(x) + self.skip(x))


class Clamp(nn.Module):
    def forward(self, x):
        return torch.tanh(x / 3) * 3


def encoder(ch: int, pool: bool) -> nn.Sequential:
    layers: list[nn.Module] = [conv(3, 64), Block(64, 64)]
    for level in range(3):
        low = pool and level == 2
        layers += [conv(64, 64, stride=2, bias=False), Block(64, 64, low), Block(64, 64, low), Block(64, 64, low)]
    layers.append(conv(64, ch))
    return nn.Sequential(*layers)


def decoder(ch: int, pool: bool) -> nn.Sequential:
    layers: list[nn.Module] = [Clamp(), conv(ch, 64), nn.ReLU()]
    for level in range(3):
        low = pool and level == 0
        layers += [Block(64, 64, low), Block(64, 64, low), Block(64, 64, low), nn.Upsample(scale_factor=2), conv(64, 64, bias=False)]
    layers += [Block(64, 64), conv(64, 3)]
    return nn.Sequential(*layers)


def read_safetensors(path: str) -> dict[str, torch.Tensor]:
    """A minimal safetensors reader (no PyPI here): 8-byte header length, JSON header, raw little-endian tensors."""
    dtypes = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for key, meta in header.items():
        if key == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        t = torch.frombuffer(bytearray(blob[a:b]), dtype=dtypes[meta["dtype"]])
        out[key] = t.reshape(meta["shape"]).float()
    return out


class TAE(nn.Module):
    def __init__(self, family: str, weights: str = DEFAULT_WEIGHTS):
        super().__init__()
        if family not in FAMILIES:
            raise SystemExit(f"unknown TAE family {family!r}: expected one of {sorted(FAMILIES)}")
        stem, ch, ext, pool = FAMILIES[family]
        self.family, self.latent_channels = family, ch
        self.encoder, self.decoder = encoder(ch, pool), decoder(ch, pool)
        for part in ("encoder", "decoder"):
            path = os.path.join(weights, f"{stem}_{part}.{ext}")
            if not os.path.exists(path):
                raise SystemExit(f"missing {path}: set --tae-weights to the folder with the TAESD files (../shared/weights/tae)")
            sd = read_safetensors(path) if ext == "safetensors" else {k: v.float() for k, v in torch.load(path, map_location="cpu").items()}
            getattr(self, part).load_state_dict(sd, strict=True)
        self.eval()

    @torch.no_grad()
    def round_trip(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 (sides multiples of 8) -> its encode/decode round trip, HxWx3 uint8."""
        x = torch.from_numpy(np.array(rgb, dtype=np.uint8, copy=True)).permute(2, 0, 1)[None]
        return RoundTrip(self)(x)[0].permute(1, 2, 0).numpy()  # the exported graph's scaling and rounding


class RoundTrip(nn.Module):
    """uint8 NCHW in, uint8 NCHW out: the contract the ONNX export carries (scaling and rounding in the graph)."""

    def __init__(self, tae: TAE):
        super().__init__()
        self.tae = tae

    def forward(self, pixels):
        y = self.tae.decoder(self.tae.encoder(pixels.to(torch.float32) / 255)).clamp(0, 1)
        return (y * 255 + 0.5).to(torch.uint8)  # cast truncates: +0.5 rounds


def export_onnx(out_dir: str, weights: str, check: np.ndarray | None) -> dict:
    import hashlib

    os.makedirs(out_dir, exist_ok=True)
    entries = []
    for fam, (stem, ch, _ext, _pool) in FAMILIES.items():
        tae = TAE(fam, weights)
        path = os.path.join(out_dir, f"tae-{fam}.onnx")
        dummy = torch.zeros(1, 3, 64, 64, dtype=torch.uint8)
        torch.onnx.export(RoundTrip(tae), dummy, path, input_names=["pixels"], output_names=["roundtrip"], opset_version=17,
                          dynamic_axes={"pixels": {2: "height", 3: "width"}, "roundtrip": {2: "height", 3: "width"}})
        with open(path, "rb") as f:
            data = f.read()
        e = {"family": fam, "describes": DESCRIBES[fam], "file": os.path.basename(path), "bytes": len(data),
             "sha256": hashlib.sha256(data).hexdigest(), "latent_channels": ch, "weights": stem, "licence": "MIT (TAESD, madebyollin/taesd)"}
        if check is not None:
            e["check_psnr_db"] = round(psnr(check, tae.round_trip(check)), 2)
        entries.append(e)
        print(f"{path}: {len(data) / 1e6:.1f} MB" + (f", PSNR {e['check_psnr_db']} dB" if check is not None else ""), flush=True)
    meta = {"input": {"name": "pixels", "dtype": "uint8", "layout": "NCHW", "multiple_of": 8},
            "output": {"name": "roundtrip", "dtype": "uint8", "layout": "NCHW"}, "families": entries}
    with open(os.path.join(out_dir, "tae.json"), "w") as f:
        json.dump(meta, f, indent=2)
    return meta


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / max(mse, 1e-10))


def main():
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", help="a photo: prints each family's round-trip PSNR and time")
    ap.add_argument("--export", help="write tae-<family>.onnx for every family and tae.json into this folder")
    ap.add_argument("--tae-weights", default=DEFAULT_WEIGHTS)
    ap.add_argument("--side", type=int, default=512)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rgb = None
    if args.check:
        im = Image.open(args.check).convert("RGB")
        s = min(im.size + (args.side,)) // 8 * 8
        rgb = np.asarray(im.crop((0, 0, s, s)))
    if args.export:
        export_onnx(args.export, args.tae_weights, rgb)
        return
    if rgb is None:
        ap.error("give --check PHOTO and/or --export DIR")
    for fam in FAMILIES:
        tae = TAE(fam, args.tae_weights)
        t0 = time.time()
        out = tae.round_trip(rgb)
        print(f"{fam:6s} {s}px PSNR {psnr(rgb, out):.2f} dB, {time.time() - t0:.2f}s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
