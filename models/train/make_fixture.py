"""Makes the tiny ONNX fixture the runtime tests use until (and besides) the trained detector.

A seeded, untrained 3-layer CNN at 32 px: its scores mean nothing, but it exercises the whole contract
(uint8 NCHW input, in-graph normalisation, dynamic batch, 3 logits) and is small enough to commit.
Usage: /usr/bin/python3 -m models.train fixture OUT_DIR
"""
import base64
import json
import os
import sys

import torch
from torch import nn

from .export_common import UInt8Input, export_bundle


def tiny_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 3),
    )


def main() -> None:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "models/fixtures/tiny"
    torch.manual_seed(1234)
    core = tiny_cnn()
    # Spread the random logits so probabilities differ visibly between images (a sharper test of parity).
    with torch.no_grad():
        core[-1].weight.mul_(8.0)
    wrapped = UInt8Input(core).eval()
    export_bundle(
        wrapped,
        out_dir,
        size=32,
        bundle_id="veracity-fixture-tiny",
        version="0.0.1",
        temperature=1.5,
        crop={"policy": "resize-center"},
        metrics={"note": "untrained fixture: scores are meaningless"},
    )
    write_parity(wrapped, out_dir, size=32, temperature=1.5)
    print(f"wrote {out_dir}/model.onnx, manifest.json and parity.json")


def write_parity(wrapped: nn.Module, out_dir: str, *, size: int, temperature: float, n: int = 8) -> None:
    """PyTorch's probabilities for seeded random uint8 inputs: the TypeScript runtime must reproduce them (1e-4)."""
    gen = torch.Generator().manual_seed(99)
    pixels = torch.randint(0, 256, (n, 3, size, size), generator=gen, dtype=torch.uint8)
    with torch.no_grad():
        probs = torch.softmax(wrapped(pixels) / temperature, dim=1)
    cases = [
        {"pixels_b64": base64.b64encode(pixels[i].numpy().tobytes()).decode(), "probs": probs[i].tolist()}
        for i in range(n)
    ]
    with open(os.path.join(out_dir, "parity.json"), "w") as f:
        json.dump({"size": size, "temperature": temperature, "cases": cases}, f)


if __name__ == "__main__":
    main()
