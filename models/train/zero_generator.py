"""Zero-generator transfer test (EXPERIMENTS.md, "A latent-autoencoder generator").

Train from the nsfwjs start on the real-only photo groups of DATA plus locally made pairs only, hold out every other
image group of DATA (all AI groups, the other real groups) and score them as a leave-groups-out fold, so every score
is on generators never trained on.

  /usr/bin/python3 -m models.train zero-generator LOCAL[,LOCAL...] OUT [MINUTES] [SEED] [--data DATA]
      [--keep GROUPS] [--train-args '--input npr']
  e.g. /usr/bin/python3 -m models.train zero-generator models/train/runs/synth-ae2 models/train/runs/zg-ae2 16
"""
from __future__ import annotations

import argparse
import os
import shlex

from ._subprocess import run_stage
from .data import DEFAULT_DATA, read_manifest

KEEP = "photos-imagenet,photos-bsds500,photos-people-objects"


def held_groups(data: str, keep: str) -> str:
    """Every image group of DATA except the real-only groups trained on."""
    kept = set(keep.split(","))
    return ",".join(sorted({r["group"] for r in read_manifest(data) if r["modality"] == "image"} - kept))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("local", help="folders of local pairs, comma-separated")
    ap.add_argument("out")
    ap.add_argument("minutes", nargs="?", default="16")
    ap.add_argument("seed", nargs="?", default="0")
    ap.add_argument("--data", default=os.environ.get("DATA", DEFAULT_DATA))
    ap.add_argument("--keep", default=os.environ.get("KEEP", KEEP), help="real-only groups of DATA trained on")
    ap.add_argument("--train-args", default=os.environ.get("TRAIN_ARGS", ""), help="appended to train's arguments")
    a = ap.parse_args()
    run_stage("train", ["--data", f"{a.data},{a.local}", "--out", a.out, "--minutes", a.minutes, "--seed", a.seed,
                        "--holdout", held_groups(a.data, a.keep), "--threads", "1", "--native-frac", "0.5",
                        "--upweight", "local-*=1", *shlex.split(a.train_args)])
    run_stage("evaluate", ["folds", a.out, "--json", os.path.join(a.out, "folds.json")])


if __name__ == "__main__":
    main()
