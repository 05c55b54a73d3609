#!/usr/bin/env bash
# Regenerates docs/volume-lifecycle.{dot,mmd,svg} from the lifecycle definition (atc-gc states).
# The SVG needs Graphviz (Debian: apt-get install graphviz).
set -euo pipefail
cd "$(dirname "$0")/../.."
cli=(dotnet run --project tools/Atc.Gc.Cli --)
"${cli[@]}" states --format dot > docs/volume-lifecycle.dot
"${cli[@]}" states --format mermaid > docs/volume-lifecycle.mmd
if command -v dot >/dev/null; then
  dot -Tsvg docs/volume-lifecycle.dot -o docs/volume-lifecycle.svg
else
  echo "Graphviz 'dot' not found: docs/volume-lifecycle.svg not regenerated" >&2
fi
