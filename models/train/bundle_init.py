"""Turns a shipped bundle (model.onnx + manifest.json) back into a train.py checkpoint, so anyone can fine-tune the
released detector on their own data with `train.py --init CKPT` instead of repeating the whole training history.

    /usr/bin/python3 -m models.train init --bundle models/bundle --out models/train/runs/bundle.pt \
        [--data ../shared/datasets]

Why this is not a plain weight copy: the export folds every BatchNorm into the conv before it (ONNX Conv with a
bias), and train.py fine-tunes with BatchNorm in training mode, which normalises by batch statistics. Loading the
fused weights with an identity BatchNorm would be exact in eval mode but would change the function as soon as
training starts. So the fused conv output z = W'x + b' gets a BatchNorm whose running statistics are z's own
mean m and variance v over real crops (from --data, else the bundle's parity images), with gamma = sqrt(v + eps)
and beta = b' + m: eval mode is still exactly W'x + b', and a training batch drawn from the same data starts out
close to it. The checkpoint is then checked against the bundle's parity.json (the PyTorch probabilities written at
export) and refused if any probability differs by 1e-4 or more.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
from .common import INPUTS, build_model
from .mobilenet_port import ConvBN

CUTS = [str(i) for i in range(1, 16)] + ["full"]
PARITY_TOL = 1e-4


def fused_convs(graph) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight, bias) of every Conv that carries a bias, in graph order. The backbone's convs are bias-free in
    PyTorch, so a bias marks a folded BatchNorm; in-graph input filters (high-pass blur, NPR) have none."""
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out = []
    for node in graph.node:
        if node.op_type == "Conv" and len(node.input) == 3 and node.input[1] in init and node.input[2] in init:
            out.append((init[node.input[1]], init[node.input[2]]))
    return out


def conv_bns(model) -> list[ConvBN]:
    return [m for m in model.modules() if isinstance(m, ConvBN)]


def match_cut(convs, input_kind: str) -> str:
    """The truncation whose ConvBN shapes equal the bundle's fused convs, in order."""
    shapes = [tuple(w.shape) for w, _ in convs]
    for cut in CUTS:
        if [tuple(m.conv.weight.shape) for m in conv_bns(build_model(cut, input=input_kind))] == shapes:
            return cut
    raise ValueError(f"no MobileNetV2 cut matches the bundle's {len(shapes)} fused convs")


def parity_cases(bundle: str) -> tuple[int, list[dict]]:
    p = json.load(open(os.path.join(bundle, "parity.json")))
    return p["size"], p["cases"]


def case_pixels(case: dict, size: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(case["pixels_b64"]), dtype=np.uint8).reshape(3, size, size)


def calibration_crops(data: str | None, size: int, cases: list[dict], n: int, seed: int) -> np.ndarray:
    if not data:
        return np.stack([case_pixels(c, size) for c in cases])
    from .data import augment, build_items, preload

    items = build_items(data)
    rng = np.random.default_rng(seed)
    pick = [items[i] for i in rng.choice(len(items), size=min(n, len(items)), replace=False)]
    arrays = preload(data, pick)
    return np.stack([augment(a, size, rng, native_frac=0.5) for a in arrays])


def load_bundle(bundle: str, data: str | None = None, n: int = 256, seed: int = 0):
    """Returns (model in eval mode, train.py-style args dict, max parity diff)."""
    manifest = json.load(open(os.path.join(bundle, "manifest.json")))
    training = manifest.get("training", {})
    input_kind = training.get("input", "rgb")
    if input_kind not in INPUTS:
        raise ValueError(f"bundle input {input_kind!r} is not one of {INPUTS}")
    graph = onnx.load(os.path.join(bundle, manifest["model"]["file"])).graph
    convs = fused_convs(graph)
    cut = match_cut(convs, input_kind)
    model = build_model(cut, input=input_kind)
    fc = {t.name: numpy_helper.to_array(t) for t in graph.initializer if t.name.startswith("core.fc.")}
    model.core.fc.weight.data = torch.from_numpy(fc["core.fc.weight"].copy())
    model.core.fc.bias.data = torch.from_numpy(fc["core.fc.bias"].copy())

    blocks = conv_bns(model)
    for m, (w, b) in zip(blocks, convs):
        m.conv.weight.data = torch.from_numpy(w.copy())
        bn = m.bn
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)  # (z - 0) / sqrt(1 - eps + eps) = z
        bn.weight.data.fill_(1.0)
        bn.bias.data = torch.from_numpy(b.copy())

    size, cases = parity_cases(bundle)
    crops = calibration_crops(data, size, cases, n, seed)
    # Record each conv's raw output statistics with the exact (identity-BN) network, then move them into the BN.
    stats: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def record(k: int):
        def hook(_mod, _inp, out):
            stats[k] = (out.mean((0, 2, 3)), out.var((0, 2, 3), unbiased=False))

        return hook

    hooks = [m.conv.register_forward_hook(record(k)) for k, m in enumerate(blocks)]
    model.eval()
    with torch.no_grad():
        model(torch.from_numpy(crops))
    for h in hooks:
        h.remove()
    for k, (m, (_, b)) in enumerate(zip(blocks, convs)):
        mean, var = stats[k]
        bn = m.bn
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.weight.data = torch.sqrt(var + bn.eps)
        bn.bias.data = torch.from_numpy(b.copy()) + mean

    diff = parity_diff(model, manifest, size, cases)
    args = {"cut": cut, "input": input_kind, "size": manifest["input"]["size"], "init": f"bundle {manifest['version']}"}
    return model, args, diff


def parity_diff(model, manifest: dict, size: int, cases: list[dict]) -> float:
    t = manifest["calibration"]["temperature"]
    x = torch.from_numpy(np.stack([case_pixels(c, size) for c in cases]))
    with torch.no_grad():
        p = torch.softmax(model(x) / t, 1).numpy()
    return float(np.abs(p - np.array([c["probs"] for c in cases])).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", default=os.path.normpath(os.path.join(HERE, "..", "bundle")))
    ap.add_argument("--out", required=True, help="checkpoint to write (train.py --init takes it)")
    ap.add_argument("--data", default="", help="dataset folder(s) for the BatchNorm statistics (default: parity images)")
    ap.add_argument("--n", type=int, default=256, help="calibration crops")
    a = ap.parse_args()
    torch.set_num_threads(2)
    model, args, diff = load_bundle(a.bundle, a.data or None, a.n)
    print(f"bundle -> cut {args['cut']}, input {args['input']}; parity max |dp| {diff:.2e} (limit {PARITY_TOL:g})")
    if not diff < PARITY_TOL:
        sys.exit(f"refused: the rebuilt model does not reproduce parity.json (max |dp| {diff:.2e})")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save({"model": model.state_dict(), "args": args, "step": 0}, a.out)
    print(f"wrote {a.out}: fine-tune with  train.py --init {a.out} --cut {args['cut']} --input {args['input']}")


if __name__ == "__main__":
    main()
