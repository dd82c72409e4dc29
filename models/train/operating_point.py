"""A bundle's operating point: the P(AI) at or above which its verdict is AI (manifest calibration.threshold).

Usage (from the repo root; numpy only, no torch, no retraining; the model file is not touched):
  /usr/bin/python3 -m models.train threshold --preds RUN/preds.npz --bundle models/bundle [--fpr 0.05] \
      [--exclude 'tae-*']

Why: at P(AI) >= 0.5, bundle 1.7.0 flags 29 % of real photos from sources it never saw, and users judge a
detector by what it flags wrongly. The threshold is the (1 - FPR) quantile of the calibrated P(AI) of the run's
validation real photos (softmax(logits / T) with the manifest's temperature), taken so that at most FPR of them
are flagged, rounded up to 4 decimals. Groups matching --exclude are left out (default tae-*: the real side of a
TAE triplet is a crop of a photo from the training split, not a photo the model has not seen). The stage rewrites
manifest.json's calibration (threshold, thresholdFpr) and metrics.operating_point (validation and held-out
FPR/TPR at the threshold and at 0.5), keeping every other byte; `export` writes the same at export time.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os

import numpy as np

from .scores import ai_score_from_logits

DEFAULT_FPR = 0.05
DEFAULT_EXCLUDE = "tae-*"
DEFAULT_THRESHOLD = 0.5  # the verdict's P(AI) without an operating point (@veracity/protocol/domain DEFAULT_THRESHOLD)
DECIMALS = 4


def threshold_at_fpr(p_real: np.ndarray, fpr: float, decimals: int = DECIMALS) -> float:
    """The smallest `decimals`-place P(AI) t in (0, 1) at which at most `fpr` of `p_real` (real items' P(AI)) have
    P(AI) >= t: the (1 - fpr) quantile taken so the target is never exceeded on these items (ties included)."""
    s = np.sort(np.asarray(p_real, dtype=np.float64))[::-1]
    if len(s) == 0:
        raise ValueError("no real items to choose a threshold on")
    if not 0 < fpr < 1:
        raise ValueError(f"fpr must be in (0, 1), got {fpr}")
    allowed = int(math.floor(fpr * len(s) + 1e-9))  # real items that may be flagged
    if allowed >= len(s):
        return 10.0 ** -decimals
    # strictly above the first real item that must not be flagged (the (allowed+1)-th highest P(AI))
    scale = 10**decimals
    t = (math.floor(s[allowed] * scale) + 1) / scale
    return float(min(max(t, 1 / scale), 1 - 1 / scale))


def rates(y_ai: np.ndarray, p_ai: np.ndarray, threshold: float) -> dict:
    """FPR (real items flagged) and TPR (AI items caught) at P(AI) >= threshold; None where a class is absent."""
    y, p = np.asarray(y_ai).astype(bool), np.asarray(p_ai, dtype=np.float64)
    flagged = p >= threshold
    share = lambda m: round(float(flagged[m].mean()), 4) if m.any() else None
    return {"fpr": share(~y), "tpr": share(y)}


def operating_point(preds, temperature: float, fpr: float = DEFAULT_FPR, exclude: str = DEFAULT_EXCLUDE) -> tuple[float, dict]:
    """(threshold, metrics.operating_point) from a run's preds.npz (val_* and, when the run held groups out,
    holdout_*), scored with `temperature`."""
    globs = tuple(filter(None, exclude.split(",")))
    keep = np.array([not any(fnmatch.fnmatch(str(g), e) for e in globs) for g in preds["val_group"]], dtype=bool)
    y_val = np.asarray(preds["val_y"])[keep] != 0
    p_val = ai_score_from_logits(np.asarray(preds["val_clean"])[keep], temperature)
    t = threshold_at_fpr(p_val[~y_val], fpr)

    def part(y, clean, robust):
        out = {"n_real": int((~y).sum()), "n_ai": int(y.sum())}
        for name, lg in (("clean", clean), ("robust", robust)):
            if lg is None:
                continue
            p = ai_score_from_logits(lg, temperature)
            out[name] = {"at_threshold": rates(y, p, t), f"at_{DEFAULT_THRESHOLD}": rates(y, p, DEFAULT_THRESHOLD)}
        return out

    val_robust = np.asarray(preds["val_robust"])[keep] if "val_robust" in preds else None
    metrics = {
        "method": (f"calibration.threshold: the (1 - {fpr:g}) quantile of the calibrated P(AI) (T = {temperature:g}) of the "
                   f"validation split's real photos, rounded up to {DECIMALS} decimals so that at most {fpr:.0%} of them are "
                   "flagged" + (f"; groups {', '.join(globs)} left out" if globs else "") + ". FPR = real items with "
                   f"P(AI) >= threshold, TPR = AI items caught; clean and after the robustness chain; at the threshold and "
                   f"at {DEFAULT_THRESHOLD} (the verdict without an operating point)"),
        "command": f"/usr/bin/python3 -m models.train threshold --preds RUN/preds.npz --bundle BUNDLE --fpr {fpr:g}"
                   + (f" --exclude '{exclude}'" if exclude != DEFAULT_EXCLUDE else ""),
        "threshold": t,
        "target_fpr": fpr,
        "validation": part(y_val, np.asarray(preds["val_clean"])[keep], val_robust),
    }
    if "holdout_y" in preds:
        y_held = np.asarray(preds["holdout_y"]) != 0
        metrics["held_out"] = {
            "what": "the run's held-out groups (train --holdout): neither trained nor validated on",
            **part(y_held, np.asarray(preds["holdout_clean"]), np.asarray(preds["holdout_robust"]) if "holdout_robust" in preds else None),
        }
    return t, metrics


def with_operating_point(manifest: dict, threshold: float, fpr: float, metrics: dict) -> dict:
    """`manifest` with calibration.threshold/thresholdFpr and metrics.operating_point set (replaced if present),
    every other key in its place."""
    out = dict(manifest)
    cal = {k: v for k, v in manifest["calibration"].items() if k not in ("threshold", "thresholdFpr")}
    out["calibration"] = {**cal, "threshold": threshold, "thresholdFpr": fpr}
    out["metrics"] = {**manifest.get("metrics", {}), "operating_point": metrics}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="write a bundle's operating point (calibration.threshold) from its run's validation logits")
    ap.add_argument("--preds", required=True, help="the training run's preds.npz (val_clean, val_y, val_group; holdout_* if any)")
    ap.add_argument("--bundle", required=True, help="bundle folder whose manifest.json is rewritten")
    ap.add_argument("--fpr", type=float, default=DEFAULT_FPR, help="target share of validation real photos flagged (default 0.05)")
    ap.add_argument("--exclude", default=DEFAULT_EXCLUDE, help="comma-separated group globs left out (default tae-*)")
    ap.add_argument("--dry-run", action="store_true", help="print the result, write nothing")
    args = ap.parse_args()
    path = os.path.join(args.bundle, "manifest.json")
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    preds = np.load(args.preds)
    t, metrics = operating_point(preds, float(manifest["calibration"]["temperature"]), args.fpr, args.exclude)
    print(json.dumps(metrics, indent=2))
    if args.dry_run:
        return
    with open(path, "w", encoding="utf-8") as f:
        json.dump(with_operating_point(manifest, t, args.fpr, metrics), f, indent=2)
        f.write("\n")
    print(f"wrote {path}: calibration.threshold = {t} (target FPR {args.fpr:g})")


if __name__ == "__main__":
    main()
