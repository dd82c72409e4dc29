"""Fine-tunes the nsfwjs-initialised MobileNetV2 (truncated) into the Veracity detector.

Usage (from the repo root):
  /usr/bin/python3 -m models.train train --data ../shared/datasets [--data models/train/runs/synth-esrgan ...] \
      --nsfwjs-weights models/train/runs --out models/train/runs/main --minutes 30 [--holdout g1,g2,...] \
      [--init CKPT] [--size 128] [--cut 12] [--input rgb|highpass|npr] [--native-frac F]

* Items: every image of manifest.csv (grids cut into tiles); --holdout groups are removed entirely (for
  leave-groups-out validation) and scored at the end; of the rest, 15 % of every group (split by pair/unit) is
  the validation set, the remainder is trained on.
* Target: 3-class cross entropy [real, synthetic, semisynthetic] plus a binary real-vs-AI term on
  log(p_synth + p_semi), so the main output (P(AI) = 1 - p_real) is trained directly while the 3 logits keep a
  synthetic/semisynthetic split.
* Time-budgeted (--minutes): cosine learning rate over the budget, checkpoints every --ckpt-every steps
  (resumable with --resume), validation at the end (clean and after JPEG q55 -> WebP q75 -> JPEG q80).
  --steps N budgets by optimiser steps instead (same cosine over N steps), so runs on a loaded or a faster
  machine see the same samples (e.g. a rerun with another --seed that must match an earlier run's budget).
Writes OUT/ckpt.pt, OUT/final.pt, OUT/preds.npz (logits of val and holdout items) and OUT/summary.json.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
from .common import INPUTS, auc, ai_score_from_logits, build_model, eval_tensors, predict
from .data import (DEFAULT_DATA, augment, build_items, data_roots, fold_split, pair_partners, parse_upweight, preload,
                   sample_weights)
from .mobilenet_port import load_nsfwjs


class AugSet(torch.utils.data.Dataset):
    """Endless augmented samples. partners (optional, per item: indices of its aligned counterparts of the other
    class) turns on paired sampling: sample 2k is a weighted draw, sample 2k+1 its counterpart through the very same
    crop, flip, colour and codec draws (or an independent draw when it has none). Why: a decoder's trace is a small
    difference between two otherwise identical images; side by side in one batch the gradient sees that difference
    instead of the content (EXPERIMENTS.md, "Paired batches")."""

    def __init__(self, arrays, ys, size, n, weights, seed, native_frac=0.0, reencode=1.0, partners=None):
        self.arrays, self.ys, self.size, self.n, self.weights, self.seed = arrays, ys, size, n, weights, seed
        self.native_frac = native_frac
        self.reencode = reencode
        self.partners = partners

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.partners is None:
            rng = np.random.default_rng((self.seed, i))
            j = int(rng.choice(len(self.arrays), p=self.weights))
        else:
            k, odd = divmod(i, 2)
            rng = np.random.default_rng((self.seed, k))
            j = int(rng.choice(len(self.arrays), p=self.weights))
            if odd:
                ps = self.partners[j]
                if ps:  # same rng state as sample 2k from here on: same augmentation draws
                    j = ps[int(np.random.default_rng((self.seed, k, 1)).integers(len(ps)))]
                else:
                    rng = np.random.default_rng((self.seed, k, 2))
                    j = int(rng.choice(len(self.arrays), p=self.weights))
        return torch.from_numpy(augment(self.arrays[j], self.size, rng, self.native_frac, self.reencode)), int(self.ys[j])


def loss_fn(logits, y, bin_weight=1.0):
    ce = F.cross_entropy(logits, y, label_smoothing=0.05)
    logp = F.log_softmax(logits, 1)
    log_ai = torch.logsumexp(logp[:, 1:], 1)
    is_ai = (y != 0).float()
    bce = -(is_ai * log_ai + (1 - is_ai) * logp[:, 0]).mean()
    return ce + bin_weight * bce


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", action="append", help="dataset folder with manifest.csv; repeat (or comma-separate) for several")
    ap.add_argument("--nsfwjs-weights", default=os.path.join(HERE, "runs"), help="folder with nsfwjs_weights.{json,bin}")
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--cut", default="12")
    ap.add_argument("--input", default="rgb", choices=INPUTS, help="rgb; highpass: x - blur(x); npr: x - up(down(x)) (both computed in-graph)")
    ap.add_argument("--native-frac", type=float, default=0.0, help="share of training crops at scale 1 (no resampling)")
    ap.add_argument("--reencode", type=float, default=1.0, help="share of training crops re-encoded (JPEG/WebP q50-95)")
    ap.add_argument("--paired", action="store_true", help="batches of aligned pairs (pair= units): each drawn item next to its counterpart, same augmentation")
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--steps", type=int, default=0, help="budget in optimiser steps instead of --minutes (0: use minutes)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-4, help="backbone lr (head gets 10x)")
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--val-frac", type=float, default=0.15)
    ap.add_argument("--holdout", default="", help="comma-separated groups removed from training and scored at the end")
    ap.add_argument("--upweight", default="photo-pairs-*=3,ai-edits-*=3,gpt4o-image=2,midjourney-v7=2,open-models-*=2")
    ap.add_argument("--policy", default='{"policy":"native-center","maxSide":1024}')
    ap.add_argument("--init", default="", help="start from this checkpoint's model weights instead of nsfwjs")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.data = data_roots(args.data or [DEFAULT_DATA])

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    policy = json.loads(args.policy)
    holdout = set(filter(None, args.holdout.split(",")))

    items = build_items(args.data)
    known = {it["group"] for it in items}
    unknown = holdout - known
    if unknown:
        raise SystemExit(f"unknown holdout groups: {sorted(unknown)}")
    train_items, val_items, held = fold_split(items, holdout, args.val_frac, args.seed)
    print(f"items: {len(items)} train {len(train_items)} val {len(val_items)} holdout {len(held)}", flush=True)

    t0 = time.time()
    # native-* policies shrink anything past maxSide at run time: shrink it once here, the same way
    cap = int(policy.get("maxSide", 1024)) if policy["policy"].startswith("native") else 0
    train_arr = preload(args.data, train_items, max_side=cap)
    val_arr = preload(args.data, val_items, max_side=cap)
    held_arr = preload(args.data, held, max_side=cap)
    print(f"decoded in {time.time() - t0:.0f}s", flush=True)

    model = build_model(args.cut, input=args.input)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu")["model"])
    else:
        load_nsfwjs(model.core, args.nsfwjs_weights)
    head = list(model.core.fc.parameters())
    head_ids = {id(p) for p in head}
    backbone = [p for p in model.parameters() if id(p) not in head_ids]
    opt = torch.optim.AdamW([{"params": backbone, "lr": args.lr}, {"params": head, "lr": args.lr * 10}], weight_decay=args.wd)
    base_lrs = [args.lr, args.lr * 10]

    step, elapsed_prev = 0, 0.0
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed_prev = ck["step"], ck["elapsed"]
        print(f"resumed at step {step} ({elapsed_prev / 60:.1f} min)", flush=True)

    weights = sample_weights(train_items, parse_upweight(args.upweight))
    ys = np.array([it["y"] for it in train_items])
    partners = pair_partners(train_items) if args.paired else None
    if partners is not None:
        print(f"paired: {sum(1 for p in partners if p)} of {len(partners)} items have a counterpart", flush=True)
        if args.batch % 2:
            raise SystemExit("--paired needs an even --batch")
    ds = AugSet(train_arr, ys, args.size, 10_000_000, weights, args.seed * 1000 + step, args.native_frac, args.reencode,
                partners)
    dl = torch.utils.data.DataLoader(ds, batch_size=args.batch, num_workers=args.workers, persistent_workers=args.workers > 0)
    budget = args.minutes * 60

    def progress(step: int, elapsed: float) -> float:
        # share of the budget used: optimiser steps with --steps, wall time otherwise (drives the cosine and the stop)
        return step / args.steps if args.steps else elapsed / budget

    t_start = time.time() - elapsed_prev
    model.train()
    run_loss, run_n = 0.0, 0
    for x, y in dl:
        elapsed = time.time() - t_start
        frac = min(1.0, progress(step, elapsed))
        warm = min(1.0, (step + 1) / 50)
        for g, b in zip(opt.param_groups, base_lrs):
            g["lr"] = b * warm * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * frac)))
        logits = model(x)
        loss = loss_fn(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        run_loss += float(loss) * len(y)
        run_n += len(y)
        if step % 20 == 0:
            print(f"step {step} {elapsed / 60:.1f} min loss {run_loss / run_n:.4f} {step * args.batch / max(elapsed, 1):.1f} img/s", flush=True)
            run_loss, run_n = 0.0, 0
        if step % args.ckpt_every == 0:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": elapsed, "args": vars(args)}, ckpt_path)
        if progress(step, elapsed) >= 1.0:
            break
    elapsed = time.time() - t_start
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": elapsed, "args": vars(args)}, ckpt_path)
    torch.save({"model": model.state_dict(), "args": vars(args), "step": step}, os.path.join(args.out, "final.pt"))
    print(f"trained {step} steps ({step * args.batch} samples) in {elapsed / 60:.1f} min", flush=True)

    # Score validation and holdout items (clean and robustness chain) and keep the logits for evaluate.py.
    model.eval()
    res = {}
    for name, its, arrs in (("val", val_items, val_arr), ("holdout", held, held_arr)):
        if not its:
            continue
        for robust in (False, True):
            lg = predict(model, eval_tensors(arrs, args.size, policy, robust))
            res[f"{name}_{'robust' if robust else 'clean'}"] = lg
        res[f"{name}_y"] = np.array([it["y"] for it in its])
        res[f"{name}_group"] = np.array([it["group"] for it in its])
        res[f"{name}_path"] = np.array([f"{it['path']}#{it['tile']}" for it in its])
        res[f"{name}_root"] = np.array([it["root"] for it in its])
    np.savez(os.path.join(args.out, "preds.npz"), **res)
    summary = {"steps": step, "samples": step * args.batch, "minutes": elapsed / 60, "args": vars(args)}
    for name in ("val", "holdout"):
        if f"{name}_y" in res:
            yb = (res[f"{name}_y"] != 0).astype(int)
            for v in ("clean", "robust"):
                summary[f"{name}_{v}_auc"] = auc(yb, ai_score_from_logits(res[f"{name}_{v}"]))
                if len(args.data) > 1:
                    # comparable with a run on the first folder alone (same items: the split is per unit hash)
                    m = res[f"{name}_root"] == args.data[0]
                    summary[f"{name}_{v}_auc_first_data"] = auc(yb[m], ai_score_from_logits(res[f"{name}_{v}"][m]))
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps({k: v for k, v in summary.items() if k != "args"}), flush=True)


if __name__ == "__main__":
    main()
