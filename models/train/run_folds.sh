#!/bin/sh
# Leave-groups-out validation: one short training run per line of FOLDS (default models/train/folds.txt),
# then per-group AUCs into RUNS/folds.json. Usage (repo root):
#   [TRAIN_ARGS='--input highpass ...'] sh models/train/run_folds.sh [DATA] [FOLDS] [MINUTES] [RUNS]
# DATA may be comma-separated folders (e.g. ../shared/datasets,models/train/runs/synth-esrgan); pairs that
# make_synthetic.py derived from a held-out group are left out of that fold's training (train.py, src_group=).
set -e
DATA=${1:-../shared/datasets}
FOLDS=${2:-models/train/folds.txt}
MIN=${3:-7}
RUNS=${4:-models/train/runs}
PY=${PYTHON:-/usr/bin/python3}
i=0
DIRS=""
grep -v '^#' "$FOLDS" | grep -v '^$' | while read -r G; do
  i=$((i+1))
  $PY models/train/train.py --data "$DATA" --out "$RUNS/fold$i" --minutes "$MIN" --holdout "$G" $TRAIN_ARGS
done
$PY models/train/evaluate.py folds "$RUNS"/fold*/ --json "$RUNS/folds.json"
