#!/usr/bin/env bash
# Browser libraries of the web page (served by `mathlens serve` at /) and of the API docs (/docs):
# installs the npm packages pinned in tools/web and copies what the pages load into
# src/mathlens/server/static/vendor/ (git-ignored). Needs node >= 18 and npm. Without it the page
# still works, with a plain-text preview, and /docs answers 503 with this script's name.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo/tools/web"

command -v node >/dev/null 2>&1 || { echo "install-web-assets: node not found (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "install-web-assets: npm not found (apt-get install npm)" >&2; exit 1; }

# npm records what it installed in node_modules/.package-lock.json; skip `npm ci` (which deletes and
# reinstalls node_modules) while that is newer than the lock file and the packages' files are there.
# --ignore-scripts: none of these packages needs an install script; swagger-ui-dist's dependency
# @scarf/scarf has one only to send install analytics (also off in package.json's scarfSettings).
stamp=node_modules/.package-lock.json
if ! { [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ -f node_modules/katex/dist/katex.min.js ] \
       && [ -f node_modules/swagger-ui-dist/swagger-ui-bundle.js ]; }; then
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
fi
vendor="$repo/src/mathlens/server/static/vendor"
version() { node -p "require('$1/package.json').version"; }

src=node_modules/katex/dist
dest="$vendor/katex"
rm -rf "$dest"
mkdir -p "$dest"
cp "$src/katex.min.js" "$src/katex.min.css" "$dest/"
cp -R "$src/fonts" "$dest/fonts"
cp node_modules/katex/LICENSE "$dest/LICENSE"
echo "install-web-assets: KaTeX $(version katex) -> ${dest#"$repo"/}"

# Swagger UI for /docs (mathlens.server.app.SWAGGER_FILES): the bundle, its CSS and favicon, and
# the licence texts (Apache-2.0 LICENSE and NOTICE; the bundle's third-party notices).
src=node_modules/swagger-ui-dist
dest="$vendor/swagger-ui"
rm -rf "$dest"
mkdir -p "$dest"
cp "$src/swagger-ui-bundle.js" "$src/swagger-ui.css" "$src/favicon-32x32.png" "$src/LICENSE" "$src/NOTICE" \
   "$src/swagger-ui-bundle.js.LICENSE.txt" "$dest/"
echo "install-web-assets: Swagger UI $(version swagger-ui-dist) -> ${dest#"$repo"/}"
