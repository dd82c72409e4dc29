"""Shared ONNX export for every Veracity bundle (the tiny test fixture and the real detector).

The tensor contract the TypeScript runtime relies on (models/src/contract.ts):
  input  "pixels": uint8 RGB NCHW [B, 3, S, S] (dynamic B, static S)
  output "logits": float32 [B, 3] in label order [real, synthetic, semisynthetic]
Normalisation lives inside the graph so every platform feeds raw bytes and no client can get it wrong.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone

import torch
from torch import nn

LABELS = ["real", "synthetic", "semisynthetic"]
INPUT_NAME = "pixels"
OUTPUT_NAME = "logits"
OPSET = 17


class UInt8Input(nn.Module):
    """Wraps a float model: casts uint8 pixels to float and normalises with fixed mean/std."""

    def __init__(self, core: nn.Module, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
        super().__init__()
        self.core = core
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = (pixels.to(torch.float32) - self.mean) / self.std
        return self.core(x)


def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def export_bundle(
    wrapped: nn.Module,
    out_dir: str,
    *,
    size: int,
    bundle_id: str,
    version: str,
    temperature: float = 1.0,
    threshold: float | None = None,
    threshold_fpr: float | None = None,
    crop: dict | None = None,
    video: dict | None = None,
    metrics: dict | None = None,
    training: dict | None = None,
    recipe: str | None = None,
) -> dict:
    """Exports `wrapped` (uint8 in, logits out) to out_dir/model.onnx and writes out_dir/manifest.json."""
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, "model.onnx")
    wrapped.eval()
    dummy = torch.zeros(1, 3, size, size, dtype=torch.uint8)
    torch.onnx.export(
        wrapped,
        dummy,
        onnx_path,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        opset_version=OPSET,
        do_constant_folding=True,
    )
    manifest = {
        "schema": 1,
        "id": bundle_id,
        "version": version,
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        # the recipe file (recipes/VERSION.json) that made this bundle: its lineage without the git-ignored runs/
        **({"recipe": recipe} if recipe else {}),
        "model": {
            "file": "model.onnx",
            "sha256": sha256_file(onnx_path),
            "bytes": os.path.getsize(onnx_path),
            "opset": OPSET,
        },
        "input": {"name": INPUT_NAME, "output": OUTPUT_NAME, "size": size, "layout": "NCHW", "dtype": "uint8"},
        "labels": LABELS,
        # threshold: the bundle's operating point (operating_point.py), absent for bundles without one (verdicts at 0.5)
        "calibration": {"method": "temperature", "temperature": float(temperature),
                        **({"threshold": float(threshold), "thresholdFpr": float(threshold_fpr)} if threshold is not None else {})},
        "crop": crop or {"policy": "resize-center"},
        "video": video or {"frames": 8, "sampling": "uniform", "aggregate": "mean"},
        "metrics": metrics or {},
    }
    if training:
        manifest["training"] = training
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest
