"""PyTorch port of the @upscalerjs ESRGAN models (MIT, Kevin Scott; idealo image-super-resolution, DIV2K).

The npm packages @upscalerjs/esrgan-slim, -medium and -legacy ship Keras functional models as tfjs "layers-model"
files (model.json + float32 or uint8-quantised .bin shards). Few layer types occur, so the graph is interpreted
generically from model.json instead of re-coding the architecture per variant:
  * RDN (esrgan-slim/-medium models/xN, esrgan-legacy div2k and psnr-small): InputLayer, Conv2D ('same'/'valid',
    stride 1), Activation relu, Concatenate on channels, Add, UpSampling2D nearest; pixels 0..255 in and out.
  * RRDN (esrgan-legacy models/gans: trained with a GAN + perceptual loss, so it invents texture rather than
    averaging it): the same plus MultiplyBeta (x * 0.2, the residual scaling) and PixelShuffle4x (TF depthToSpace,
    NHWC channel order); pixels 0..1 in and out (upscalerjs inputRange/outputRange), rescaled here so every
    loaded net takes and returns 0..255.

Usage as a library: net = load_esrgan(PKG_DIR, scale[, variant]); y = net(x)  # float [N,3,H,W] 0..255 -> [N,3,sH,sW]
Parity against the original under tfjs: /usr/bin/python3 -m models.train verify-esrgan --verify PKG_DIR [--scale 4]
[--variant gans] (runs esrgan_tfjs.cjs on a few dataset crops and prints the max abs difference in 0..255 units).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


RRDN_LAYERS = ("MultiplyBeta", "PixelShuffle2x", "PixelShuffle3x", "PixelShuffle4x", "PixelShuffle8x")


def depth_to_space_nhwc_order(x: torch.Tensor, s: int) -> torch.Tensor:
    """tf.depthToSpace on NHWC, for an NCHW tensor: channel index (dy * s + dx) * C + c, unlike torch's
    pixel_shuffle (c * s * s + dy * s + dx)."""
    n, cs, h, w = x.shape
    c = cs // (s * s)
    return x.view(n, s, s, c, h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c, h * s, w * s)


class KerasGraph(nn.Module):
    def __init__(self, model_json: dict, weights: dict[str, np.ndarray]):
        super().__init__()
        cfg = model_json["modelTopology"]["model_config"]["config"]
        self.layers = cfg["layers"]
        # RRDN graphs work on 0..1 pixels (upscalerjs inputRange [0, 1]); RDN graphs on 0..255
        self.unit = 255.0 if any(l["class_name"] in RRDN_LAYERS for l in self.layers) else 1.0
        self.output_name = cfg["output_layers"][0][0]
        self.convs = nn.ModuleDict()
        self.pads: dict[str, str] = {}
        for l in self.layers:
            c = l["config"]
            kind = l["class_name"]
            if kind == "Conv2D":
                if c["strides"] != [1, 1] or c["dilation_rate"] != [1, 1] or c.get("groups", 1) != 1:
                    raise ValueError(f"unsupported conv {l['name']}")
                if c["activation"] != "linear":
                    raise ValueError(f"unsupported fused activation in {l['name']}")
                k = weights[f"{l['name']}/kernel"]  # HWIO
                conv = nn.Conv2d(k.shape[2], k.shape[3], (k.shape[0], k.shape[1]), bias=c["use_bias"])
                conv.weight.data = torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1)))
                if c["use_bias"]:
                    conv.bias.data = torch.from_numpy(weights[f"{l['name']}/bias"].copy())
                self.convs[l["name"]] = conv
                self.pads[l["name"]] = c["padding"]
            elif kind == "Activation" and c["activation"] != "relu":
                raise ValueError(f"unsupported activation {c['activation']}")
            elif kind == "UpSampling2D" and c["interpolation"] != "nearest":
                raise ValueError("unsupported upsampling")
            elif kind not in ("InputLayer", "Conv2D", "Activation", "Concatenate", "Add", "UpSampling2D") + RRDN_LAYERS:
                raise ValueError(f"unsupported layer {kind}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """0..255 in, 0..255 out, whatever range the graph itself works in."""
        return self.raw(x / self.unit) * self.unit

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """The graph on its own pixel range (what tfjs runs)."""
        vals: dict[str, torch.Tensor] = {}
        for l in self.layers:
            name, kind, c = l["name"], l["class_name"], l["config"]
            ins = [vals[n[0]] for n in l["inbound_nodes"][0]] if l["inbound_nodes"] else []
            if kind == "InputLayer":
                y = x
            elif kind == "Conv2D":
                conv = self.convs[name]
                kh, kw = conv.kernel_size
                if self.pads[name] == "same" and (kh > 1 or kw > 1):
                    # TF 'same' with stride 1 and odd kernels is symmetric
                    y = F.conv2d(ins[0], conv.weight, conv.bias, padding=(kh // 2, kw // 2))
                else:
                    y = conv(ins[0])
            elif kind == "Activation":
                y = F.relu(ins[0])
            elif kind == "Concatenate":
                y = torch.cat(ins, 1)
            elif kind == "Add":
                y = ins[0]
                for t in ins[1:]:
                    y = y + t
            elif kind == "UpSampling2D":
                y = F.interpolate(ins[0], scale_factor=tuple(c["size"]), mode="nearest")
            elif kind == "MultiplyBeta":
                y = ins[0] * float(c.get("beta", 0.2))
            elif kind.startswith("PixelShuffle"):
                y = depth_to_space_nhwc_order(ins[0], int(c.get("scale") or kind[len("PixelShuffle") : -1]))
            vals[name] = y
            # free what is no longer needed (the graphs are small; this keeps HR activations from piling up)
        return vals[self.output_name]


def read_tfjs_layers_model(model_dir: str) -> tuple[dict, dict[str, np.ndarray]]:
    with open(os.path.join(model_dir, "model.json")) as f:
        mj = json.load(f)
    weights = {}
    for group in mj["weightsManifest"]:
        buf = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"]))
            q = w.get("quantization")
            if w["dtype"] != "float32" or (q and q["dtype"] != "uint8"):
                raise ValueError(f"unsupported weight encoding for {w['name']}")
            if q:  # tfjs affine uint8 quantisation: value = min + scale * q
                raw = np.frombuffer(buf, dtype=np.uint8, count=n, offset=off).astype(np.float32)
                weights[w["name"]] = (raw * np.float32(q["scale"]) + np.float32(q["min"])).reshape(w["shape"])
                off += n
            else:
                weights[w["name"]] = np.frombuffer(buf, dtype="<f4", count=n, offset=off).reshape(w["shape"]).copy()
                off += n * 4
    return mj, weights


def model_dir(pkg_dir: str, scale: int, variant: str = "") -> str:
    """models/xN in esrgan-slim/-medium/-thick; a named folder (gans, psnr-small, div2k/...) in esrgan-legacy."""
    return os.path.join(pkg_dir, "models", variant or f"x{scale}")


def load_esrgan(pkg_dir: str, scale: int, variant: str = "") -> KerasGraph:
    mj, w = read_tfjs_layers_model(model_dir(pkg_dir, scale, variant))
    return KerasGraph(mj, w).eval()


@torch.no_grad()
def upscale(net: KerasGraph, img: np.ndarray, tile: int = 0) -> np.ndarray:
    """uint8 HWC -> uint8 HWC upscaled (clipped, rounded like upscalerjs). tile: process in LR tiles of this size
    with an 8 px overlap (0 = whole image) to bound memory."""
    x = torch.from_numpy(img.astype(np.float32).transpose(2, 0, 1)[None])
    if tile <= 0:
        y = net(x)
    else:
        h, w = img.shape[:2]
        s = None
        out = None
        ov = 8
        for t in range(0, h, tile):
            for l in range(0, w, tile):
                t0, l0 = max(0, t - ov), max(0, l - ov)
                t1, l1 = min(h, t + tile + ov), min(w, l + tile + ov)
                yt = net(x[:, :, t0:t1, l0:l1])
                if s is None:
                    s = yt.shape[2] // (t1 - t0)
                    out = torch.zeros(1, 3, h * s, w * s)
                th, tw = min(tile, h - t), min(tile, w - l)
                out[:, :, t * s : (t + th) * s, l * s : (l + tw) * s] = yt[:, :, (t - t0) * s : (t - t0 + th) * s, (l - l0) * s : (l - l0 + tw) * s]
        y = out
    return np.clip(np.rint(y[0].numpy().transpose(1, 2, 0)), 0, 255).astype(np.uint8)


def verify(pkg_dir: str, scale: int, data: str, runs: str, n: int, s: int, variant: str = "") -> float:
    from PIL import Image

    from .data import read_manifest

    rows = [r for r in read_manifest(data) if r["modality"] == "image" and r["label"] == "real"]
    rng = np.random.default_rng(1)
    xs = []
    for i in rng.choice(len(rows), n, replace=False):
        im = Image.open(os.path.join(data, rows[i]["path"])).convert("RGB")
        w, h = im.size
        l, t = (w - s) // 2, (h - s) // 2
        xs.append(np.asarray(im.crop((l, t, l + s, t + s)), dtype=np.float32))
    x = np.stack(xs).astype("<f4")  # NHWC 0..255
    os.makedirs(runs, exist_ok=True)
    inp = os.path.join(runs, "esrgan_check_input.bin")
    outp = os.path.join(runs, "esrgan_check_output.bin")
    net = load_esrgan(pkg_dir, scale, variant)
    (x / net.unit).astype("<f4").tofile(inp)  # tfjs gets the graph's own pixel range
    subprocess.run(["node", os.path.join(HERE, "esrgan_tfjs.cjs"), model_dir(pkg_dir, scale, variant), inp, str(n), str(s), outp], check=True)
    ref = np.fromfile(outp, dtype="<f4").reshape(n, s * scale, s * scale, 3) * net.unit
    with torch.no_grad():
        y = net(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()).permute(0, 2, 3, 1).numpy()
    d = float(np.abs(y - ref).max())
    print(f"{pkg_dir} {variant or ''} x{scale}: {n} crops of {s}px, output range {ref.min():.1f}..{ref.max():.1f}, max abs diff {d:.3e} (0..255 units)")
    return d


if __name__ == "__main__":
    from .data import DEFAULT_DATA

    ap = argparse.ArgumentParser()
    ap.add_argument("--verify", required=True, help="installed package dir, e.g. /tmp/train-deps/node_modules/@upscalerjs/esrgan-slim")
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--variant", default="", help="model folder when not xN, e.g. gans in esrgan-legacy")
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--runs", default=os.path.join(HERE, "runs"))
    ap.add_argument("--n", type=int, default=3)
    ap.add_argument("--size", type=int, default=48)
    a = ap.parse_args()
    d = verify(a.verify, a.scale, a.data, a.runs, a.n, a.size, a.variant)
    print("PORT OK" if d < 1e-2 else "PORT MISMATCH")
    sys.exit(0 if d < 1e-2 else 1)
