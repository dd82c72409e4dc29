"""Metrics for the Veracity detector.

Subcommands (`/usr/bin/python3 -m models.train eval SUBCOMMAND ...` from the repo root):
  val    RUN_DIR [--exclude GLOBS]   validation-split AUCs (clean and robustness chain), per-group AUCs, temperature;
                                     --exclude 'local-*' leaves out groups by name (e.g. to compare a run trained
                                     with make_synthetic.py pairs against one without, on the same items)
  folds  RUN_DIR [RUN_DIR ...]       leave-groups-out AUC per held-out group from train.py --holdout runs
  policy CKPT [--data D]             validation AUC of one checkpoint under each runtime crop policy
  calibration FOLD_RUN_DIR ...       calibration on groups a model has not seen: each fold's held-out items scored
                                     with its validation temperature, against a binary (Platt) calibration of P(AI)
                                     fitted on the other folds' held-out items (and one fitted on those plus the
                                     fold's own validation items); Brier, MCC, sn34 on held-out and validation items
  recode RUN_DIR ... --out DIR [--codecs jpeg:90,webp:75,...]
                                     a run's validation and held-out items re-scored with the input crop re-encoded
                                     at test time (every training crop is); writes DIR/RUN/CODEC/preds.npz for
                                     `val` and `folds`
  recon  --ae AE.pt --esrgan PKG [--data D] [--per-group N] [--crop S]
                                     training-free probe: per-group AUC of reconstruction errors (bicubic x2
                                     down-up, ESRGAN x2, an autoencoder round trip) and their ratios as AI scores
  clips  CKPT --data FRAMES [--subset NAME=GLOBS ...]
                                     clip-level AUC of one checkpoint on a video_frames.py folder: P(AI) averaged
                                     over each clip's frames (clean and robustness chain); --subset scores the clips
                                     whose "GROUP|REPOSITORY" matches one of the comma-separated globs

Leave-groups-out pairing: a held-out group with both labels is scored on its own items (AI vs real inside the
group). A held-out group with one label only is scored against the items of the other label held out in the same
fold (e.g. a synthetic-only generator group against the real photo groups held out with it), which is why folds
are chosen so that each holds out real and AI groups together. All AUCs: P(AI) = 1 - p_real, AI = synthetic or
semisynthetic. --json writes the result.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os

import numpy as np

from .common import ai_score_from_logits, auc, ece, fit_temperature
from .data import DEFAULT_DATA
from .scores import binary_metrics, fit_platt


def _r(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), 4)


def val_metrics(run_dir: str, exclude: tuple[str, ...] = ()) -> dict:
    p = np.load(os.path.join(run_dir, "preds.npz"))
    keep = np.array([not any(fnmatch.fnmatch(g, e) for e in exclude) for g in p["val_group"]], dtype=bool)
    y = p["val_y"][keep]
    yb = (y != 0).astype(int)
    groups = p["val_group"][keep]
    out = {"n": int(len(y)), "n_ai": int(yb.sum())}
    if exclude:
        out["excluded_groups"] = sorted(set(p["val_group"][~keep]))
    lc, lr = p["val_clean"][keep], p["val_robust"][keep]
    # Temperature: fitted on the validation logits, clean and robustness-chain versions together.
    t = fit_temperature(np.concatenate([lc, lr]), np.concatenate([y, y]))
    out["temperature"] = round(t, 4)
    for name, lg in (("clean", lc), ("robust", lr)):
        s = ai_score_from_logits(lg)
        out[f"auc_{name}"] = _r(auc(yb, s))
        st = ai_score_from_logits(lg, t)
        out[f"acc_at_0.5_{name}"] = _r(((st > 0.5) == yb).mean())
        out[f"ece_{name}_T1"] = _r(ece(yb, s))
        out[f"ece_{name}_T"] = _r(ece(yb, st))
    per = {}
    for g in sorted(set(groups)):
        m = groups == g
        if len(set(yb[m])) == 2:
            per[g] = {"n": int(m.sum()), "auc": _r(auc(yb[m], ai_score_from_logits(lc[m]))), "auc_robust": _r(auc(yb[m], ai_score_from_logits(lr[m])))}
        else:
            # one-label group: accuracy of the thresholded (p > 0.5, calibrated) decision
            acc = ((ai_score_from_logits(lc[m], t) > 0.5) == yb[m]).mean()
            acc_r = ((ai_score_from_logits(lr[m], t) > 0.5) == yb[m]).mean()
            per[g] = {"n": int(m.sum()), "label": "ai" if yb[m][0] else "real", "acc": _r(acc), "acc_robust": _r(acc_r)}
    out["per_group"] = per
    return out


def fold_metrics(run_dirs: list[str]) -> dict:
    per, folds = {}, []
    all_y, all_s, all_sr = [], [], []
    for d in run_dirs:
        p = np.load(os.path.join(d, "preds.npz"))
        if "holdout_y" not in p:
            continue
        yb = (p["holdout_y"] != 0).astype(int)
        groups = p["holdout_group"]
        sc = ai_score_from_logits(p["holdout_clean"])
        sr = ai_score_from_logits(p["holdout_robust"])
        all_y.append(yb), all_s.append(sc), all_sr.append(sr)
        summ = json.load(open(os.path.join(d, "summary.json")))
        folds.append({"run": os.path.basename(d.rstrip("/")), "groups": sorted(set(groups)), "minutes": _r(summ["minutes"]),
                      "samples": summ["samples"], "auc": _r(auc(yb, sc)), "auc_robust": _r(auc(yb, sr))})
        for g in sorted(set(groups)):
            m = groups == g
            labels = set(yb[m])
            if len(labels) == 2:
                sel, against = m, "itself"
            else:
                other = (yb != yb[m][0])
                sel = m | other
                against = sorted(set(groups[other])) or None
            if len(set(yb[sel])) < 2:
                per[g] = {"n": int(m.sum()), "auc": None, "note": "no opposite label held out in this fold"}
                continue
            per[g] = {"n": int(m.sum()), "auc": _r(auc(yb[sel], sc[sel])), "auc_robust": _r(auc(yb[sel], sr[sel])),
                      "scored_against": against, "fold": folds[-1]["run"]}
    out = {"per_group": per, "folds": folds}
    if all_y:
        y, s, sr = np.concatenate(all_y), np.concatenate(all_s), np.concatenate(all_sr)
        out["pooled_auc"] = _r(auc(y, s))
        out["pooled_auc_robust"] = _r(auc(y, sr))
        vals = [v["auc"] for v in per.values() if v.get("auc") is not None]
        out["mean_group_auc"] = _r(np.mean(vals)) if vals else None
        vals = [v["auc_robust"] for v in per.values() if v.get("auc_robust") is not None]
        out["mean_group_auc_robust"] = _r(np.mean(vals)) if vals else None
    return out


def _ai_logit(logits: np.ndarray, t: float) -> np.ndarray:
    p = np.clip(ai_score_from_logits(logits, t), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def calibration_metrics(run_dirs: list[str]) -> dict:
    """Cross-fold check of a binary calibration for new generators: for fold i, (a, b) are fitted on the held-out
    items of the other folds (clean and robustness chain, each scored at its own fold's validation temperature),
    so no item of fold i's held-out groups informs its own calibration."""
    folds = []
    for d in run_dirs:
        p = np.load(os.path.join(d, "preds.npz"))
        t = fit_temperature(np.concatenate([p["val_clean"], p["val_robust"]]), np.concatenate([p["val_y"], p["val_y"]]))
        sets = {}
        for part in ("holdout", "val"):
            yb = (p[f"{part}_y"] != 0).astype(int)
            for chain in ("clean", "robust"):
                sets[f"{part}_{chain}"] = (_ai_logit(p[f"{part}_{chain}"], t), yb)
        folds.append({"run": os.path.basename(d.rstrip("/")), "temperature": t, "sets": sets})
    out = []
    for i, f in enumerate(folds):
        others = [o["sets"][k] for j, o in enumerate(folds) if j != i for k in ("holdout_clean", "holdout_robust")]
        z_o, y_o = np.concatenate([z for z, _ in others]), np.concatenate([y for _, y in others])
        own = [f["sets"]["val_clean"], f["sets"]["val_robust"]]
        fits = {"platt_other_folds": fit_platt(z_o, y_o),
                "platt_other_folds_and_val": fit_platt(np.concatenate([z_o] + [z for z, _ in own]),
                                                       np.concatenate([y_o] + [y for _, y in own]))}
        row = {"run": f["run"], "temperature": _r(f["temperature"]),
               **{k: {"a": _r(a), "b": _r(b)} for k, (a, b) in fits.items()}, "sets": {}}
        for name, (z, y) in f["sets"].items():
            row["sets"][name] = {"n": int(len(y)), "ai_share": _r(y.mean())}
            # the temperature-only baseline is the identity map a = 1, b = 0 on the same logits
            for k, (a, b) in {"temperature": (1.0, 0.0), **fits}.items():
                row["sets"][name][k] = {m: _r(v) for m, v in binary_metrics(y, 1 / (1 + np.exp(-(a * z + b)))).items()}
        out.append(row)
    return {"folds": out}


def _load_checkpoint(ckpt: str):
    """A train.py checkpoint's model (2 threads) and its saved train.py args."""
    import torch

    from .common import build_from_args

    ck = torch.load(ckpt, map_location="cpu")
    model = build_from_args(ck["args"])
    model.load_state_dict(ck["model"])
    torch.set_num_threads(2)
    return model, ck["args"]


def _holdout(a: dict) -> set[str]:
    return set(filter(None, a.get("holdout", "").split(",")))


def recode_preds(run_dir: str, out_dir: str, codecs: list[tuple[str, int]]) -> dict:
    """Re-scores a train.py run's validation and held-out items with the model's input crop re-encoded by each
    codec (as every training sample is, data.augment), clean and after the robustness chain. Writes
    OUT/CODEC/preds.npz (+ the run's summary.json), which `val` and `folds` read like the run's own; OUT/none is
    the run as trained (its logits reproduce the run's preds.npz)."""
    import shutil

    from PIL import Image

    from .common import predict
    from .data import ROBUST_CHAIN, apply_chain, build_items, crops_for_policy, encode, fold_split, preload, to_chw

    model, a = _load_checkpoint(os.path.join(run_dir, "final.pt"))
    _, val, held = fold_split(build_items(a["data"]), _holdout(a), a["val_frac"], a["seed"])
    ref = np.load(os.path.join(run_dir, "preds.npz"))
    policy = json.loads(a["policy"])
    variants = {"none": None, **{f"{f}{q}": (f, q) for f, q in codecs}}
    res: dict[str, dict] = {v: {} for v in variants}
    for name, its in (("val", val), ("holdout", held)):
        if not its:
            continue
        # The chain costs more than the model: crop every image once per condition, then re-encode the crops.
        crops = {False: [], True: []}
        for arr in preload(a["data"], its):
            im = Image.fromarray(arr)
            crops[False].append(crops_for_policy(im, a["size"], policy))
            crops[True].append(crops_for_policy(apply_chain(im, ROBUST_CHAIN), a["size"], policy))
        for v, codec in variants.items():
            for robust in (False, True):
                tens = [np.stack([to_chw(c if codec is None else encode(c, *codec)) for c in cs]) for cs in crops[robust]]
                res[v][f"{name}_{'robust' if robust else 'clean'}"] = predict(model, tens)
            for k in ("y", "group", "path", "root"):
                res[v][f"{name}_{k}"] = ref[f"{name}_{k}"]
        print(f"{run_dir}: {name} {len(its)} items re-scored", flush=True)
    out = {}
    for v, r in res.items():
        d = os.path.join(out_dir, v)
        os.makedirs(d, exist_ok=True)
        np.savez(os.path.join(d, "preds.npz"), **r)
        shutil.copy(os.path.join(run_dir, "summary.json"), d)
        out[v] = {n: [_r(auc((r[f"{n}_y"] != 0).astype(int), ai_score_from_logits(r[f"{n}_{c}"]))) for c in ("clean", "robust")]
                  for n in ("val", "holdout") if f"{n}_y" in r}
    return out


RECON_PHOTOS = ("photos-imagenet", "photos-bsds500", "photos-people-objects")


def recon_metrics(data: str, ae_path: str, esrgan_dir: str, per_group: int, size: int) -> dict:
    """Training-free probe: do reconstruction errors tell AI from real? Per image (native centre crop of at most
    SIZE px, sides a multiple of 4): mean squared error of a bicubic x2 down-up (how much fine detail there is), of
    the ESRGAN x2 upscale of the same downscale and of an autoencoder round trip (the AEROBLADE idea: a latent
    decoder reconstructs what a similar decoder made more easily). AUC of "lower score = AI" per group for the
    errors and their ratios; two-label groups against themselves, AI-only groups against the real photo groups
    (StyleGAN groups against FFHQ), at most PER_GROUP items per group (seeded sample)."""
    import torch
    from PIL import Image

    from .autoencoder import load_ae, reconstruct
    from .data import build_items, load_image
    from .esrgan_port import load_esrgan, upscale

    torch.set_num_threads(2)
    ae, esr = load_ae(ae_path), load_esrgan(esrgan_dir, 2)
    rng = np.random.default_rng(0)
    by: dict[str, list[dict]] = {}
    for it in build_items(data):
        by.setdefault(it["group"], []).append(it)
    items = [its[i] for _, its in sorted(by.items()) for i in sorted(rng.permutation(len(its))[:per_group])]
    err = {"bicubic": [], "esrgan": [], "ae": []}
    for n, it in enumerate(items):
        a = load_image(data, it)
        h, w = a.shape[:2]
        c = min(size, h, w) // 4 * 4
        a = np.ascontiguousarray(a[(h - c) // 2 : (h - c) // 2 + c, (w - c) // 2 : (w - c) // 2 + c])
        low = Image.fromarray(a).resize((c // 2, c // 2), Image.BICUBIC)
        for k, b in (("bicubic", np.asarray(low.resize((c, c), Image.BICUBIC))), ("esrgan", upscale(esr, np.asarray(low))),
                     ("ae", reconstruct(ae, a))):
            err[k].append(float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2)))
        if n % 100 == 0:
            print(f"recon: {n}/{len(items)}", flush=True)
    e = {k: np.array(v) for k, v in err.items()}
    scores = {"bicubic": e["bicubic"], "esrgan/bicubic": e["esrgan"] / e["bicubic"], "ae": e["ae"], "ae/bicubic": e["ae"] / e["bicubic"]}
    g = np.array([it["group"] for it in items])
    y = np.array([int(it["y"] != 0) for it in items])
    out = {"n": len(items), "crop": size, "per_group": {}}
    for grp in sorted(set(g)):
        m = g == grp
        if len(set(y[m])) == 2:
            sel = m
        elif y[m][0] == 1:
            sel = m | np.isin(g, ["faces-ffhq"] if grp.startswith("faces-stylegan") else list(RECON_PHOTOS))
        else:
            continue
        out["per_group"][grp] = {"n": int(m.sum()), **{k: _r(auc(y[sel], -v[sel])) for k, v in scores.items()}}
    return out


def policy_metrics(ckpt: str, data: str, policies: list[dict], limit: int = 0) -> dict:
    from .common import eval_tensors, predict
    from .data import build_items, fold_split, preload

    model, a = _load_checkpoint(ckpt)
    _, val, _ = fold_split(build_items(data), _holdout(a), a["val_frac"], a["seed"])
    if limit:
        val = val[:: max(1, len(val) // limit)]
    arrs = preload(data, val)
    yb = np.array([it["y"] != 0 for it in val]).astype(int)
    out = {}
    for pol in policies:
        key = json.dumps(pol, sort_keys=True)
        r = {}
        for robust in (False, True):
            lg = predict(model, eval_tensors(arrs, a["size"], pol, robust))
            r["auc_robust" if robust else "auc"] = _r(auc(yb, ai_score_from_logits(lg)))
        out[key] = r
        print(key, r, flush=True)
    return out


def clip_metrics(ckpt: str, frames_dir: str, subsets: dict[str, list[str]]) -> dict:
    from .common import eval_tensors, predict
    from .data import build_items, preload, read_manifest
    from .video_frames import CLIP_RE

    model, a = _load_checkpoint(ckpt)
    items = build_items(frames_dir)
    notes = {r["path"]: r.get("notes") or "" for r in read_manifest(frames_dir)}
    # a clip: its path (video_frames.py's clip=) and its split unit "GROUP|pair=REPOSITORY", which --subset matches
    # as "GROUP|REPOSITORY"
    key = [(CLIP_RE.search(notes[it["path"]]).group(1), it["unit"], int(it["y"] != 0)) for it in items]
    clips = sorted(set(key))
    index = {k: i for i, k in enumerate(clips)}
    frame_clip = np.array([index[k] for k in key])
    frames_per_clip = np.bincount(frame_clip, minlength=len(clips))
    arrs = preload(frames_dir, items)
    y = np.array([k[2] for k in clips])
    tags = [k[1].replace("|pair=", "|", 1) for k in clips]
    out = {"n_clips": len(clips), "n_frames": len(items)}
    for robust in (False, True):
        p = ai_score_from_logits(predict(model, eval_tensors(arrs, a["size"], json.loads(a["policy"]), robust)))
        clip_p = np.bincount(frame_clip, weights=p, minlength=len(clips)) / frames_per_clip
        for name, globs in {"all": ["*"], **subsets}.items():
            m = np.array([any(fnmatch.fnmatch(t, g) for g in globs) for t in tags])
            r = out.setdefault(name, {"n": int(m.sum()), "n_ai": int(y[m].sum())})
            r["auc_robust" if robust else "auc"] = _r(auc(y[m], clip_p[m]))
    return out


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a1 = sub.add_parser("val")
    a1.add_argument("run")
    a1.add_argument("--exclude", default="", help="comma-separated group globs left out of the metrics")
    a2 = sub.add_parser("folds")
    a2.add_argument("runs", nargs="+")
    a3 = sub.add_parser("policy")
    a3.add_argument("ckpt")
    a3.add_argument("--data", default=DEFAULT_DATA)
    a3.add_argument("--limit", type=int, default=0)
    a3.add_argument("--size-override", type=int, default=0)
    a4 = sub.add_parser("calibration")
    a4.add_argument("runs", nargs="+")
    a5 = sub.add_parser("clips")
    a5.add_argument("ckpt")
    a5.add_argument("--data", required=True, help="a video_frames.py output folder")
    a5.add_argument("--subset", action="append", default=[], metavar="NAME=GLOBS")
    a6 = sub.add_parser("recode")
    a6.add_argument("runs", nargs="+")
    a6.add_argument("--out", required=True, help="writes OUT/RUN_NAME/CODEC/preds.npz for each run")
    a6.add_argument("--codecs", default="jpeg:90,jpeg:75,jpeg:60,webp:75", help="FORMAT:QUALITY,...")
    a7 = sub.add_parser("recon")
    a7.add_argument("--data", default=DEFAULT_DATA)
    a7.add_argument("--ae", required=True, help="autoencoder.py checkpoint, e.g. models/train/runs/ae2/ae.pt")
    a7.add_argument("--esrgan", required=True, help="the @upscalerjs/esrgan-slim package folder")
    a7.add_argument("--per-group", type=int, default=120)
    a7.add_argument("--crop", type=int, default=256)
    for a in (a1, a2, a3, a4, a5, a6, a7):
        a.add_argument("--json", default="")
    args = ap.parse_args()
    if args.cmd == "val":
        res = val_metrics(args.run, tuple(filter(None, args.exclude.split(","))))
    elif args.cmd == "folds":
        res = fold_metrics(args.runs)
    elif args.cmd == "calibration":
        res = calibration_metrics(args.runs)
    elif args.cmd == "recode":
        codecs = []
        for spec in filter(None, args.codecs.split(",")):
            fmt, _, q = spec.partition(":")
            if fmt not in ("jpeg", "webp") or not q.isdigit() or not 1 <= int(q) <= 100:
                raise SystemExit(f"--codecs wants jpeg:Q or webp:Q (Q in 1..100), got {spec!r}")
            codecs.append((fmt, int(q)))
        res = {os.path.basename(r.rstrip("/")): recode_preds(r, os.path.join(args.out, os.path.basename(r.rstrip("/"))), codecs)
               for r in args.runs}
    elif args.cmd == "recon":
        res = recon_metrics(args.data, args.ae, args.esrgan, args.per_group, args.crop)
    elif args.cmd == "clips":
        subsets = {}
        for spec in args.subset:
            name, sep, globs = spec.partition("=")
            if not sep or not name:
                raise SystemExit(f"--subset wants NAME=GLOBS, got {spec!r}")
            subsets[name] = [g.strip() for g in globs.split(",") if g.strip()]
        res = clip_metrics(args.ckpt, args.data, subsets)
    else:
        pols = [
            {"policy": "native-center", "maxSide": 1024},
            {"policy": "native-center", "maxSide": 512},
            {"policy": "resize-center"},
            {"policy": "native-five", "maxSide": 1024},
        ]
        res = policy_metrics(args.ckpt, args.data, pols, args.limit)
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
