#!/usr/bin/env bash
# The MathJax web-style renderer (src/mathlens/synth/mathjax): installs its pinned npm packages into
# $MATHLENS_MATHJAX_DIR (default ~/.cache/mathlens/mathjax), where mathlens runs the script from.
# Needs node >= 18 and npm. Quick when the packages already match package-lock.json.
set -euo pipefail
src="$(cd "$(dirname "$0")/../src/mathlens/synth/mathjax" && pwd)"
dest="${MATHLENS_MATHJAX_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mathlens/mathjax}"

command -v node >/dev/null 2>&1 || { echo "install-web-renderer: node not found (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "install-web-renderer: npm not found (apt-get install npm)" >&2; exit 1; }

mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$src/render.mjs" "$dest/"
cd "$dest"
# npm records what it installed in node_modules/.package-lock.json; skip `npm ci` (which deletes and
# reinstalls node_modules) while that is newer than the lock file and the renderer's packages load.
stamp=node_modules/.package-lock.json
if [ -f "$stamp" ] && cmp -s package-lock.json node_modules/.lock-source 2>/dev/null \
   && node -e "require.resolve('mathjax-full/js/mathjax.js'); require('@resvg/resvg-js')" >/dev/null 2>&1; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json node_modules/.lock-source
