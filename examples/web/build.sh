#!/usr/bin/env bash
# Builds the page's WebAssembly module, www/constnet_web.wasm, with the
# network the `mnist` example trains embedded in it (target/mnist.cnet at
# the repository's root, trained first if it is not there; or the file
# CONSTNET_WEB_MODEL names). Then serve www/, for instance with
#   python3 -m http.server --bind 127.0.0.1 --directory examples/web/www 8000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ -z "${CONSTNET_WEB_MODEL:-}" ] && [ ! -f ../../target/mnist.cnet ]; then
    echo "no target/mnist.cnet yet: training it (cargo run --release --example mnist)"
    (cd ../.. && cargo run --release --example mnist)
fi
cargo build --release --lib --target wasm32-unknown-unknown
cp target/wasm32-unknown-unknown/release/constnet_web.wasm www/
echo "www/constnet_web.wasm: $(wc -c <www/constnet_web.wasm) bytes"
