#!/usr/bin/env bash
# One-time (and idempotent) set-up on a fresh Debian/Ubuntu machine: Debian's Chromium (Playwright drives it; it
# never downloads a browser), ffmpeg (video frames), python3 numpy + Pillow (training-data tests), then the npm
# workspace. Needs Node.js >= 20.19 already.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "setup: Node.js >= 20.19 is required (found: $(node --version 2>/dev/null || echo none)). Install it from nodejs.org or NodeSource, then re-run." >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
[ -x "${VERACITY_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
# the training pipeline's torch-free unit tests (models/train/test_*.py) run on Debian's python3 with numpy + Pillow
/usr/bin/python3 -c 'import numpy, PIL' 2>/dev/null || missing+=(python3-numpy python3-pil)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# onnxruntime-node carries its CPU binaries; skip its optional CUDA download (nuget.org), which offline machines
# cannot reach and no user of ours needs.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
echo "==> ready: node $(node --version), $("${VERACITY_CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -1), $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
