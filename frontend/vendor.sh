#!/usr/bin/env bash
# Copy the files the pages use from node_modules into the package's static folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../src/refundflow/entrypoints/web/static/vendor"
cd "$here"
npm install --no-audit --no-fund --silent
rm -rf "$out" && mkdir -p "$out/swagger-ui" "$out/pico" "$out/htmx" "$out/echarts"
cp node_modules/swagger-ui-dist/{swagger-ui-bundle.js,swagger-ui.css,LICENSE} "$out/swagger-ui/"
cp node_modules/@picocss/pico/css/pico.min.css node_modules/@picocss/pico/LICENSE.md "$out/pico/"
cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE "$out/htmx/"
cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE "$out/echarts/"
echo "vendored into $out"
