"""Exports a trained checkpoint as the shipped Veracity bundle (model.onnx + manifest.json + parity.json).

Usage (from the repo root):
  /usr/bin/python3 -m models.train export --run models/train/runs/main1 --out models/bundle \
      [--folds-json models/train/runs/folds.json] [--policy-json ...] [--latency-json ...] \
      [--crop '{"policy":"native-center","maxSide":1024}'] [--data ../shared/datasets]

* temperature: fitted on RUN/preds.npz validation logits (clean + robustness chain) by evaluate.val_metrics
* calibration.threshold: the operating point at --threshold-fpr (default 0.05) on the validation real photos
  (operating_point.py, the `threshold` stage), with metrics.operating_point: validation and held-out FPR/TPR
  at that threshold and at 0.5
* manifest.metrics: validation metrics, leave-groups-out metrics (--folds-json from `evaluate.py folds`),
  crop-policy comparison and latency when given
* parity.json: 8 uint8 [3,S,S] inputs (policy crops of validation images, base64 of the raw bytes) with the
  PyTorch probabilities softmax(logits / T), for the runtime's parity test (tolerance 1e-4)
"""
from __future__ import annotations

import argparse
import base64
import json
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
from .common import ResidualInput, build_from_args, eval_tensors
from .data import DEFAULT_DATA, build_items, preload, split_items
from .evaluate import val_metrics
from .export_common import export_bundle
from .operating_point import DEFAULT_EXCLUDE, DEFAULT_FPR, operating_point


def local_groups(folder: str) -> list[str]:
    """Group names of an extra data folder, so the manifest says which local generators trained the model."""
    try:
        return sorted({it["group"] for it in build_items([folder])})
    except (OSError, ValueError):
        return ["manifest unreadable at export time"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--ckpt", default="", help="default RUN/final.pt")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "bundle"))
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--crop", default='{"policy":"native-center","maxSide":1024}')
    ap.add_argument("--folds-json", default="")
    ap.add_argument("--policy-json", default="")
    ap.add_argument("--latency-json", default="")
    ap.add_argument("--folds-note", default="", help="appended to leave_groups_out.method, e.g. which recipe the folds measured")
    ap.add_argument("--metric-json", action="append", default=[], metavar="KEY=PATH",
                    help="more measurements to keep under manifest.metrics[KEY] (repeatable)")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--recipe", default="", help="the recipe this export belongs to, written to manifest.recipe "
                    "(models/train/recipes/VERSION.json, relative to the repository root)")
    ap.add_argument("--val-exclude", default="", help="group globs left out of the headline validation metrics "
                    "(e.g. 'local-*' so they stay comparable with a bundle trained without those folders); "
                    "the all-groups numbers are kept under validation_all_groups")
    ap.add_argument("--threshold-fpr", type=float, default=DEFAULT_FPR,
                    help="the operating point: calibration.threshold flags at most this share of validation real photos")
    ap.add_argument("--threshold-exclude", default=DEFAULT_EXCLUDE,
                    help="group globs left out of the operating point's validation photos (default tae-*)")
    args = ap.parse_args()

    ck = torch.load(args.ckpt or os.path.join(args.run, "final.pt"), map_location="cpu")
    a = ck["args"]
    size = a["size"]
    model = build_from_args(a)
    model.load_state_dict(ck["model"])
    model.eval()

    excl = tuple(filter(None, args.val_exclude.split(",")))
    val = val_metrics(args.run, excl)
    t = val["temperature"]
    metrics = {
        "score": "P(AI) = 1 - p_real = p_synthetic + p_semisynthetic; AUCs are real vs AI (synthetic + semisynthetic)",
        "robustness_chain": "JPEG q55 -> WebP q75 -> JPEG q80 applied to the whole image before the crop",
        "validation": {
            "split": f"{a['val_frac']:.0%} of every group by pair/unit (seed {a['seed']}), never trained on",
            **{k: v for k, v in val.items() if k != "temperature"},
        },
    }
    threshold, metrics["operating_point"] = operating_point(np.load(os.path.join(args.run, "preds.npz")), t,
                                                            args.threshold_fpr, args.threshold_exclude)
    if excl:
        allv = val_metrics(args.run)
        metrics["validation_all_groups"] = {k: v for k, v in allv.items() if k not in ("temperature", "per_group")}
        metrics["validation_all_groups"]["per_group"] = {g: v for g, v in allv["per_group"].items() if g not in val["per_group"]}
    if args.folds_json:
        metrics["leave_groups_out"] = {
            "method": "group 3-fold (models/train/folds.txt): each fold retrained from the nsfwjs start without its groups "
                      "for a few minutes only (see folds[].minutes/samples, far shorter than the shipped model's training); "
                      "two-label groups scored on themselves, one-label groups against the opposite-label items held out "
                      "in the same fold (scored_against)" + (f"; {args.folds_note}" if args.folds_note else ""),
            **json.load(open(args.folds_json)),
        }
    for spec in args.metric_json:
        key, sep, path = spec.partition("=")
        if not sep or not key or key in metrics:
            raise SystemExit(f"--metric-json wants KEY=PATH with a new key, got {spec!r}")
        metrics[key] = json.load(open(path))
    if args.policy_json:
        metrics["crop_policy_comparison_val"] = {"file": os.path.basename(args.policy_json),
                                                 "results": json.load(open(args.policy_json))}
    if args.latency_json:
        metrics["latency"] = json.load(open(args.latency_json))
    crop = json.loads(args.crop)
    training = {
        "backbone": f"MobileNetV2 (Keras) from nsfwjs weights, truncated after block {a['cut']}, global average pool, Linear(->3)",
        "pretrained": "nsfwjs@4.3.0 mobilenet_v2 (MIT), ported by models/train/port_nsfwjs.cjs + mobilenet_port.py",
        "input_scaling": "pixels / 255 (nsfwjs)",
        "input": a.get("input", "rgb") + (f": {model.describe()}" if isinstance(model, ResidualInput) else ""),
        "data": "Veracity datasets manifest (images only, 2x2 grids cut into tiles)" + (
            "; plus " + ", ".join(f"{d} ({', '.join(local_groups(d))})" for d in a["data"][1:]) + " (local pairs from make_synthetic.py / "
            "make_tae_pairs.py: real photos through local generators with their re-saved sources as real; or public sets "
            "built with npm run dataset)" if isinstance(a.get("data"), list) and len(a["data"]) > 1 else ""),
        "steps": ck.get("step"),
        "init": a.get("init") or "nsfwjs",
        "minutes": a.get("minutes"),
        "batch": a["batch"],
        "size": size,
        "holdout_groups": a.get("holdout", ""),
        "augmentation": (f"random square crop ({a.get('native_frac', 0):.0%} at native scale, the rest at scale x0.5-1.5), "
                         f"flips, colour, blur, noise, random JPEG/WebP q50-95 for {a.get('reencode', 1.0):.0%} of crops, every class alike"),
        "loss": "3-class CE (label smoothing 0.05) + binary real-vs-AI NLL on log(p_synth + p_semi)",
    }
    man = export_bundle(model, args.out, size=size, bundle_id="veracity-detector", version=args.version, temperature=t,
                        threshold=threshold, threshold_fpr=args.threshold_fpr, crop=crop, metrics=metrics, training=training,
                        recipe=args.recipe or None)
    print(f"exported {args.out}/model.onnx ({man['model']['bytes']} bytes), T = {t}, threshold = {threshold} "
          f"(validation FPR <= {args.threshold_fpr:g})")

    # parity cases: policy crops of validation images (4 clean, 4 after the robustness chain)
    items = build_items(args.data)
    holdout = set(filter(None, a.get("holdout", "").split(",")))
    _, val_items = split_items([it for it in items if it["group"] not in holdout], a["val_frac"], a["seed"])
    rng = np.random.default_rng(7)
    pick = [val_items[i] for i in rng.choice(len(val_items), 8, replace=False)]
    arrs = preload(args.data, pick)
    crops = eval_tensors(arrs[:4], size, {"policy": "native-center", "maxSide": 1024}, False) + eval_tensors(
        arrs[4:], size, {"policy": "native-center", "maxSide": 1024}, True)
    x = np.stack([c[0] for c in crops])
    with torch.no_grad():
        logits = model(torch.from_numpy(x)).double()
        probs = torch.softmax(logits / t, 1).numpy()
    cases = [{"source": f"{it['path']}#{it['tile']}" + (" (robustness chain)" if i >= 4 else ""), "label": it["label"],
              "pixels_b64": base64.b64encode(x[i].tobytes()).decode(), "logits": [float(v) for v in logits[i]],
              "probs": [float(v) for v in probs[i]]} for i, it in enumerate(pick)]
    with open(os.path.join(args.out, "parity.json"), "w") as f:
        json.dump({"size": size, "layout": "uint8 [3,S,S] RGB planar (C-order)", "temperature": t, "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote parity.json:", [np.round(c["probs"], 4).tolist() for c in cases])


if __name__ == "__main__":
    main()
