// The browser test of the web demo, run by ../test.sh: headless Chromium
// loads the page, draws MNIST test digits on the pad through the page's
// own input path (mouse and touch input dispatched by the browser, which
// the page receives as pointer events) and checks that the page shows the
// class the host computed for each image.
//
//   node browser.mjs URL DIGITS.json [--screenshot FILE]
//   node browser.mjs URL --expect-error
//
// DIGITS.json is what `cargo run --example test_digits` prints. Exits 1 on
// any difference, on a page that shows nothing (the module did not load,
// no ink on the pad, no class, no probabilities) and on a page error.
// With --expect-error the page must instead say that its model does not
// load, and show no class.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const [url, second, ...rest] = process.argv.slice(2);
if (!url || !second) {
  console.error("usage: node browser.mjs URL DIGITS.json [--screenshot FILE] | URL --expect-error");
  process.exit(2);
}
const expectError = second === "--expect-error";
const screenshot = rest[0] === "--screenshot" ? rest[1] : null;
const failures = [];
const fail = (message) => {
  failures.push(message);
  console.log(`FAIL ${message}`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // No sandbox (CI runs as root); no GPU; no connection to anything but
  // the local server (the network here is closed).
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({
    viewport: { width: 760, height: 400 },
    deviceScaleFactor: 1,
    hasTouch: true,
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => fail(`page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && fail(`console error: ${m.text()}`));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("status").dataset.state !== "loading", null, {
    timeout: 30_000,
  });
  const status = await page.locator("#status").textContent();
  const state = await page.locator("#status").getAttribute("data-state");
  console.log(`page status (${state}): ${status}`);

  // What the page shows: the class, the ten percentages, and how many
  // pixels of the pad and of the network's input have ink.
  const shown = () =>
    page.evaluate(() => {
      const inked = (id) => {
        const c = document.getElementById(id);
        const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) n += id === "pad" ? data[i + 3] > 0 : data[i] > 0;
        return n;
      };
      return {
        text: document.getElementById("class").textContent,
        percents: [...document.querySelectorAll("#probabilities .p")].map((td) => td.textContent),
        pad: inked("pad"),
        input: inked("input"),
      };
    });
  // Two animation frames: whatever the page does next has been painted.
  const settle = () =>
    page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

  if (expectError) {
    if (state !== "error" || !status.includes("does not load")) {
      fail(`expected the page to say that its model does not load; it says (${state}): ${status}`);
    }
    const s = await shown();
    if (s.text !== "–" || s.percents.some((p) => p !== "")) fail(`the page shows a class: ${JSON.stringify(s)}`);
  } else if (state !== "ready") {
    fail(`the page did not start: ${status}`);
  } else {
    const digits = JSON.parse(readFileSync(second, "utf8"));
    if (digits.length < 20) fail(`only ${digits.length} digits to draw`);
    // The pad's drawing area, inside its border, in CSS pixels: one per
    // pad pixel.
    const pad = await page.evaluate(() => {
      const c = document.getElementById("pad");
      const r = c.getBoundingClientRect();
      return { x: r.left + c.clientLeft, y: r.top + c.clientTop, width: c.clientWidth, height: c.clientHeight };
    });
    if (pad.width !== 280 || pad.height !== 280) fail(`the pad is ${pad.width}×${pad.height} CSS pixels, not 280×280`);
    const cdp = await context.newCDPSession(page);
    const touch = (type, x, y) =>
      cdp.send("Input.dispatchTouchEvent", {
        type,
        touchPoints: type === "touchEnd" ? [] : [{ x: pad.x + x, y: pad.y + y, id: 1 }],
      });
    const started = Date.now();
    for (const [n, digit] of digits.entries()) {
      await page.locator("#clear").click();
      await settle();
      const blank = await shown();
      if (blank.text !== "–" || blank.pad !== 0) fail(`the pad is not blank after Clear: ${JSON.stringify(blank)}`);
      // Even digits with the mouse, odd ones with a finger.
      const by = n % 2 === 0 ? "mouse" : "touch";
      for (const stroke of digit.strokes) {
        const [[x0, y0], ...moves] = stroke;
        if (by === "mouse") {
          await page.mouse.move(pad.x + x0, pad.y + y0);
          await page.mouse.down();
          for (const [x, y] of moves) await page.mouse.move(pad.x + x, pad.y + y);
          await page.mouse.up();
        } else {
          await touch("touchStart", x0, y0);
          for (const [x, y] of moves) await touch("touchMove", x, y);
          await touch("touchEnd");
        }
      }
      await settle();
      const s = await shown();
      const percents = s.percents.map(Number.parseFloat);
      const sum = percents.reduce((a, b) => a + b, 0);
      const top = percents.indexOf(Math.max(...percents));
      const line =
        `test image ${digit.index} (label ${digit.label}, ${by}, ${digit.strokes.length} strokes): ` +
        `page ${s.text} (${s.percents[top]}), host ${digit.host_class} ` +
        `(${(100 * digit.host_p).toFixed(1)} %), host's redrawing ${digit.drawn_class} ` +
        `(${(100 * digit.drawn_probabilities[digit.drawn_class]).toFixed(1)} %); ${s.pad} pixels of ink`;
      console.log(line);
      if (!/^[0-9]$/.test(s.text)) fail(`test image ${digit.index}: the page shows no class`);
      else if (Number(s.text) !== digit.host_class)
        fail(`test image ${digit.index}: the page shows ${s.text}, the host computes ${digit.host_class}`);
      if (s.pad === 0 || s.input === 0) fail(`test image ${digit.index}: no ink on the canvases`);
      // The host drew the same strokes on the same pad: the same pixels
      // must be inked, and the probabilities agree to what is shown.
      if (s.pad !== digit.drawn_ink)
        fail(`test image ${digit.index}: ${s.pad} pixels of ink on the page, ${digit.drawn_ink} on the host`);
      const far = digit.drawn_probabilities.findIndex((p, i) => !(Math.abs(100 * p - percents[i]) <= 0.051));
      if (far >= 0)
        fail(`test image ${digit.index}: the page shows ${s.percents[far]} for ${far}, the host's redrawing ${digit.drawn_probabilities[far]}`);
      if (percents.some(Number.isNaN) || Math.abs(sum - 100) > 1 || top !== Number(s.text))
        fail(`test image ${digit.index}: the probabilities shown are wrong: ${s.percents.join(", ")}`);
      if (n === 0 && screenshot) await page.screenshot({ path: screenshot });
    }
    console.log(`${digits.length} digits drawn and checked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} failure(s)`);
  process.exit(1);
}
console.log("browser test passed");
