#!/usr/bin/env bash
# Copy the files the pages use from node_modules into the package's static folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../src/refundflow/entrypoints/web/static/vendor"
cd "$here"
npm install --no-audit --no-fund --silent
rm -rf "$out" && mkdir -p "$out/swagger-ui"
cp node_modules/swagger-ui-dist/{swagger-ui-bundle.js,swagger-ui.css,LICENSE} "$out/swagger-ui/"
echo "vendored into $out"
