#!/usr/bin/env bash
# Browser libraries of the web page (served by `mathlens serve` at /): installs the npm packages
# pinned in tools/web and copies what the page loads into src/mathlens/server/static/vendor/
# (git-ignored). Needs node >= 18 and npm. Without it the page still works, with a plain-text preview.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo/tools/web"

command -v node >/dev/null 2>&1 || { echo "install-web-assets: node not found (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "install-web-assets: npm not found (apt-get install npm)" >&2; exit 1; }

# npm records what it installed in node_modules/.package-lock.json; skip `npm ci` (which deletes and
# reinstalls node_modules) while that is newer than the lock file and KaTeX's files are there.
stamp=node_modules/.package-lock.json
if ! { [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ -f node_modules/katex/dist/katex.min.js ]; }; then
  npm ci --no-audit --no-fund --loglevel=error
fi

src=node_modules/katex/dist
dest="$repo/src/mathlens/server/static/vendor/katex"
rm -rf "$dest"
mkdir -p "$dest"
cp "$src/katex.min.js" "$src/katex.min.css" "$dest/"
cp -R "$src/fonts" "$dest/fonts"
cp node_modules/katex/LICENSE "$dest/LICENSE"
echo "install-web-assets: KaTeX $(node -p "require('katex/package.json').version") -> ${dest#"$repo"/}"
