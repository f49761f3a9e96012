#!/usr/bin/env bash
# Extracts digits.csv.gz from the scikit-learn wheel on PyPI, unchanged.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pip download scikit-learn==1.9.1 --no-deps --only-binary=:all: -q -d "$tmp"
python3 - "$tmp" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/scikit_learn-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    open("digits.csv.gz", "wb").write(z.read("sklearn/datasets/data/digits.csv.gz"))
PY
sha256sum digits.csv.gz
