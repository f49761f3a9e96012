#!/usr/bin/env bash
# The browser test: headless Chromium (/usr/bin/chromium, or $CHROMIUM)
# loads the page from a local static server, draws the first 20 MNIST test
# digits the host classifies with a probability of 0.99 or more through
# the page's input path, and checks that the page shows the host's class
# for each (test/browser.mjs). It also loads a page whose embedded model
# is damaged, which must say so instead of showing a class.
#
#   examples/web/test.sh [--screenshot FILE]   (default target/screenshot.png)
#
# Needs Node.js and npm (playwright-core, pinned in test/package-lock.json,
# comes from the npm registry; it drives the system's Chromium and
# downloads no browser).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
screenshot=target/screenshot.png
if [ "${1:-}" = --screenshot ]; then
    screenshot=$2
fi
out=target/browser-test
rm -rf "$out"
mkdir -p "$out/damaged"
(cd test && npm ci --no-audit --no-fund --loglevel=error)

# First the damaged page: a copy of the model with one parameter byte
# changed, which the file's checksum refuses. Built before the real one,
# so that www/ is left with the real module.
model=$(realpath "${CONSTNET_WEB_MODEL:-../../target/mnist.cnet}")
if [ ! -f "$model" ]; then
    ./build.sh # trains the model
fi
python3 - "$model" "$out/damaged.cnet" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0x40
open(sys.argv[2], "wb").write(data)
PY
CONSTNET_WEB_MODEL=$(realpath "$out/damaged.cnet") \
    cargo build --release --lib --target wasm32-unknown-unknown
cp www/index.html www/main.js target/wasm32-unknown-unknown/release/constnet_web.wasm "$out/damaged/"

./build.sh
# The README quotes the module's size: the model (814,191 bytes) and about
# 51 KB of code. Fail if the code grows past 86 KB.
size=$(wc -c <www/constnet_web.wasm)
echo "www/constnet_web.wasm: $size bytes"
if [ "$size" -gt 900000 ]; then
    echo "the module is $size bytes, over 900,000"
    exit 1
fi
cargo run --release --example test_digits -- 20 >"$out/digits.json"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory . "$port" >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server"' EXIT
for _ in $(seq 50); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/www/')" 2>/dev/null; then
        break
    fi
    sleep 0.1
done

echo "--- a page whose model is damaged"
node test/browser.mjs "http://127.0.0.1:$port/$out/damaged/" --expect-error
echo "--- the page, with 20 test digits"
node test/browser.mjs "http://127.0.0.1:$port/www/" "$out/digits.json" --screenshot "$screenshot"
echo "screenshot: examples/web/$screenshot ($(wc -c <"$screenshot") bytes)"
