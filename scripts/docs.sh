#!/usr/bin/env bash
# Builds CutoverCore's documentation (the DocC catalog in Sources/CutoverCore/CutoverCore.docc plus
# the `///` comments) with the toolchain's own `docc`, no plugin needed:
#
#   scripts/docs.sh            # → .build/docs/CutoverCore.doccarchive (and warnings on stderr)
#   scripts/docs.sh --preview  # the same, served by `docc preview` on http://localhost:8080
set -euo pipefail
cd "$(dirname "$0")/.."
GRAPHS="$(pwd)/.build/symbol-graphs"
OUT=.build/docs/CutoverCore.doccarchive
rm -rf "$GRAPHS" && mkdir -p "$GRAPHS" .build/docs
swift build --target CutoverCore -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$GRAPHS" >&2
# Only CutoverCore's own graph (the build also writes its dependencies').
find "$GRAPHS" -name '*.symbols.json' ! -name 'CutoverCore*' -delete
verb=convert
[[ ${1:-} == --preview ]] && verb=preview
docc "$verb" Sources/CutoverCore/CutoverCore.docc --fallback-display-name CutoverCore --fallback-bundle-identifier dev.cutover.CutoverCore \
  --additional-symbol-graph-dir "$GRAPHS" --output-path "$OUT"
echo "documentation: $OUT" >&2
