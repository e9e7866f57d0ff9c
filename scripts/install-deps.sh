#!/usr/bin/env bash
# Everything the tests and training need, on a fresh Debian machine (run as root or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

apt_packages=(texlive-latex-base texlive-latex-recommended texlive-fonts-recommended texlive-latex-extra lmodern dvipng
              texlive-xetex fonts-linuxlibertine poppler-utils libjemalloc2)
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The CPU build of torch first: the [train] and [vlm] ranges admit it, so pip installs no CUDA build.
python3 -m pip install -q torch==2.13.0
python3 -m pip install -q -e ".[train,serve,ray,dev,page,vlm]"  # vlm: transformers, for the tiny-VLM tests

# MathJax renderer (web-style training/validation images): node + the npm packages pinned in src/mathlens/synth/mathjax.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
bash scripts/install-web-renderer.sh

# The web page (served at /): KaTeX for its preview, and a real browser for its tests. Debian's
# chromium drives the Playwright tests (executable_path); `playwright install` is never run.
if ! command -v chromium >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
python3 -m pip install -q "playwright>=1.40"
bash scripts/install-web-assets.sh
