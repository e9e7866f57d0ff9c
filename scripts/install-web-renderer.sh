#!/usr/bin/env bash
# The MathJax web-style renderer (tools/mathjax): installs its pinned npm packages. Needs node >= 18
# and npm. Quick when node_modules already matches package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../tools/mathjax"

command -v node >/dev/null 2>&1 || { echo "install-web-renderer: node not found (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "install-web-renderer: npm not found (apt-get install npm)" >&2; exit 1; }

# npm records what it installed in node_modules/.package-lock.json; skip `npm ci` (which deletes and
# reinstalls node_modules) while that is newer than the lock file and the renderer's packages load.
stamp=node_modules/.package-lock.json
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] \
   && node -e "require.resolve('mathjax-full/js/mathjax.js'); require('@resvg/resvg-js')" >/dev/null 2>&1; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
