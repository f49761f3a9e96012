// Forwards pointer positions to the WebAssembly module and shows what it
// computes: everything else (brush, preprocessing, network) is Rust.
const $ = (id) => document.getElementById(id);
const status = $("status");
const fail = (text) => {
  status.textContent = text;
  status.className = "error";
  status.dataset.state = "error";
};

try {
  const response = await fetch("constnet_web.wasm");
  if (!response.ok) throw new Error(`constnet_web.wasm: ${response.status} ${response.statusText}`);
  const bytes = await response.arrayBuffer();
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const wasm = instance.exports;
  if (!wasm.init()) {
    const message = new Uint8Array(wasm.memory.buffer, wasm.message(), wasm.message_len());
    throw new Error(new TextDecoder().decode(message));
  }
  const side = wasm.pad_side();
  const pad = $("pad").getContext("2d");
  const input = $("input").getContext("2d");
  const rows = [...Array(10)].map((_, digit) => {
    const row = $("probabilities").insertRow();
    row.innerHTML = `<td>${digit}</td><td class="bar"><div></div></td><td class="p"></td>`;
    return row;
  });

  const show = () => {
    const memory = wasm.memory.buffer;
    const pixels = new Uint8ClampedArray(memory, wasm.pixels(), side * side * 4);
    pad.putImageData(new ImageData(pixels.slice(), side, side), 0, 0);
    const digit = wasm.classify();
    input.putImageData(new ImageData(new Uint8ClampedArray(memory, wasm.input(), 28 * 28 * 4).slice(), 28, 28), 0, 0);
    const p = new Float32Array(memory, wasm.probabilities(), 10);
    rows.forEach((row, i) => {
      row.className = i === digit ? "top" : "";
      row.querySelector(".bar div").style.width = `${100 * p[i]}%`;
      row.querySelector(".p").textContent = digit < 0 ? "" : `${(100 * p[i]).toFixed(1)} %`;
    });
    $("class").textContent = digit < 0 ? "–" : digit;
  };

  // Pointer events: the mouse, a finger and a pen alike. Every position
  // the browser saw counts, not only the one it dispatched per frame.
  let last = null;
  const at = (e) => {
    const c = $("pad"); // inside its border
    const r = c.getBoundingClientRect();
    const x = e.clientX - r.left - c.clientLeft;
    const y = e.clientY - r.top - c.clientTop;
    return [(x * side) / c.clientWidth, (y * side) / c.clientHeight];
  };
  $("pad").addEventListener("pointerdown", (e) => {
    $("pad").setPointerCapture(e.pointerId);
    last = at(e);
    wasm.stroke(...last, ...last);
    show();
  });
  $("pad").addEventListener("pointermove", (e) => {
    if (!last) return;
    const events = e.getCoalescedEvents?.() ?? [];
    for (const c of events.length ? events : [e]) {
      const next = at(c);
      wasm.stroke(...last, ...next);
      last = next;
    }
    show();
  });
  const up = () => (last = null);
  $("pad").addEventListener("pointerup", up);
  $("pad").addEventListener("pointercancel", up);
  $("clear").addEventListener("click", () => {
    wasm.clear();
    show();
  });
  show();
  status.textContent = "Draw with the mouse or a finger; the network runs in WebAssembly.";
  status.dataset.state = "ready";
} catch (e) {
  fail(`The network could not start: ${e.message}`);
}
