"""Leave-groups-out validation: one short training run per line of FOLDS, then per-group AUCs into RUNS/folds.json.

  /usr/bin/python3 -m models.train folds [DATA] [FOLDS] [MINUTES] [RUNS] [--train-args '--input highpass ...']

DATA may be comma-separated folders (e.g. ../shared/datasets,models/train/runs/synth-esrgan); pairs that the pair
makers derived from a held-out group are left out of that fold's training (train, src_group=). A line of FOLDS is
the comma-separated groups that fold holds out; empty lines and lines starting with # are skipped.
"""
from __future__ import annotations

import argparse
import glob
import os
import shlex

from ._subprocess import run_stage

HERE = os.path.dirname(os.path.abspath(__file__))


def read_folds(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", default="../shared/datasets")
    ap.add_argument("folds", nargs="?", default=os.path.relpath(os.path.join(HERE, "folds.txt")))
    ap.add_argument("minutes", nargs="?", default="7")
    ap.add_argument("runs", nargs="?", default=os.path.relpath(os.path.join(HERE, "runs")))
    ap.add_argument("--train-args", default=os.environ.get("TRAIN_ARGS", ""), help="appended to every fold's train")
    a = ap.parse_args()
    for i, groups in enumerate(read_folds(a.folds), 1):
        run_stage("train", ["--data", a.data, "--out", os.path.join(a.runs, f"fold{i}"), "--minutes", a.minutes,
                            "--holdout", groups, *shlex.split(a.train_args)])
    run_stage("evaluate", ["folds", *sorted(glob.glob(os.path.join(a.runs, "fold*", ""))),
                           "--json", os.path.join(a.runs, "folds.json")])


if __name__ == "__main__":
    main()
