"""Makes the tiny TAE-shaped ONNX fixture the validator's generated-challenge tests use (no ../shared weights in CI).

Same contract as `python3 -m models.train tae --export`: input "pixels" uint8 RGB NCHW [1, 3, H, W] (H, W multiples of 8), output
"roundtrip" uint8 of the same shape, scaling and rounding in the graph, plus a tae.json that lists its families.
The network is a fixed 8x down / 8x up autoencoder-like blur (average pool, nearest upsample, a seeded 3x3 conv
close to identity): its output resembles its input without being it, which is all the tests need; a few KB.
Usage: /usr/bin/python3 -m models.train tae-fixture OUT_DIR
"""
import hashlib
import json
import os
import sys

import torch
from torch import nn


class TinyRoundTrip(nn.Module):
    def __init__(self, seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.down = nn.AvgPool2d(8)
        self.up = nn.Upsample(scale_factor=8, mode="nearest")
        self.mix = nn.Conv2d(3, 3, 3, padding=1)
        with torch.no_grad():
            w = torch.zeros(3, 3, 3, 3)
            for c in range(3):
                w[c, c] = 1 / 9  # a 3x3 box blur per channel ...
            self.mix.weight.copy_(w + 0.01 * torch.randn(w.shape, generator=g))  # ... with a seeded trace
            self.mix.bias.copy_(0.01 * torch.randn(3, generator=g))

    def forward(self, pixels):
        y = self.mix(self.up(self.down(pixels.to(torch.float32) / 255))).clamp(0, 1)
        return (y * 255 + 0.5).to(torch.uint8)


def main() -> None:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "models/fixtures/tae-tiny"
    os.makedirs(out_dir, exist_ok=True)
    entries = []
    for i, fam in enumerate(["tiny-a", "tiny-b"]):
        path = os.path.join(out_dir, f"tae-{fam}.onnx")
        dummy = torch.zeros(1, 3, 64, 64, dtype=torch.uint8)
        torch.onnx.export(TinyRoundTrip(100 + i).eval(), dummy, path, input_names=["pixels"], output_names=["roundtrip"],
                          opset_version=17,
                          dynamic_axes={"pixels": {2: "height", 3: "width"}, "roundtrip": {2: "height", 3: "width"}})
        with open(path, "rb") as f:
            data = f.read()
        entries.append({"family": fam, "describes": f"test fixture {fam} (untrained)", "file": os.path.basename(path),
                        "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "latent_channels": 3,
                        "weights": "none", "licence": "same as this repository"})
        print(f"{path}: {len(data)} bytes")
    meta = {"input": {"name": "pixels", "dtype": "uint8", "layout": "NCHW", "multiple_of": 8},
            "output": {"name": "roundtrip", "dtype": "uint8", "layout": "NCHW"}, "families": entries}
    with open(os.path.join(out_dir, "tae.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
