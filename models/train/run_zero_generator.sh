#!/bin/sh
# Zero-generator transfer test (README "A latent-autoencoder generator"): train from the nsfwjs start on the real-only
# photo groups of DATA plus locally made pairs only, hold out every other image group of DATA (all AI groups, the
# other real groups) and score them as a leave-groups-out fold, so every score is on generators never trained on.
# Usage (repo root):
#   sh models/train/run_zero_generator.sh LOCAL[,LOCAL...] OUT [MINUTES] [SEED]
#   e.g. sh models/train/run_zero_generator.sh models/train/runs/synth-ae2 models/train/runs/zg-ae2 16
# DATA defaults to the training scripts' default (data.DEFAULT_DATA, the shared set); KEEP (real-only groups trained
# on) to its three photo groups; TRAIN_ARGS (e.g. '--input npr') is appended to train.py's arguments.
set -e
PY=${PYTHON:-/usr/bin/python3}
DATA=${DATA:-$($PY -c 'import sys; sys.path.insert(0, "models/train"); from data import DEFAULT_DATA; print(DEFAULT_DATA)')}
KEEP=${KEEP:-photos-imagenet,photos-bsds500,photos-people-objects}
HOLD=$($PY -c '
import sys
sys.path.insert(0, "models/train")
from data import read_manifest
keep = set(sys.argv[2].split(","))
print(",".join(sorted({r["group"] for r in read_manifest(sys.argv[1]) if r["modality"] == "image"} - keep)))
' "$DATA" "$KEEP")
$PY models/train/train.py --data "$DATA,$1" --out "$2" --minutes "${3:-16}" --seed "${4:-0}" --holdout "$HOLD" \
  --threads 1 --native-frac 0.5 --upweight 'local-*=1' $TRAIN_ARGS
$PY models/train/evaluate.py folds "$2" --json "$2/folds.json"
