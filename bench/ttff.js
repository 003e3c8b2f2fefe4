// Join speed: time from the Request click to the first decoded frame, for N
// watchers of one talker clicking at once, in headless Chromium on loopback.
//   node bench/ttff.js [watchers=8] [runs=3]      (after `make build`)
'use strict';
const { startServer } = require('../test/server');
const { launch, open, waitState } = require('../test/browser');

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function run(browser, n, i) {
  const server = await startServer(['-max-watchers', String(Math.max(n, 10))]);
  try {
    const room = `ttff-${i}`;
    const talk = await open(browser, `${server.url}/talk.html?room=${room}`);
    await talk.click('#onair');
    await waitState(talk, /^on air/);
    const watchers = await Promise.all(Array.from({ length: n }, () => open(browser, `${server.url}/watch.html?room=${room}`)));
    await Promise.all(watchers.map((w) => w.waitForSelector('#request:not([disabled])')));
    await Promise.all(watchers.map((w) => w.evaluate(() => new Promise((resolve) => {
      const v = document.getElementById('remote-video');
      document.getElementById('request').addEventListener('click', () => {
        const t0 = performance.now();
        v.requestVideoFrameCallback(() => { window.ttff = performance.now() - t0; });
      });
      resolve();
    }))));
    await Promise.all(watchers.map((w) => w.click('#request')));
    await Promise.all(watchers.map((w) => w.waitForFunction(() => window.ttff !== undefined, null, { timeout: 60000 })));
    const ms = await Promise.all(watchers.map((w) => w.evaluate(() => window.ttff)));
    await Promise.all([talk, ...watchers].map((p) => p.context().close()));
    return ms;
  } finally {
    await server.stop();
  }
}

(async () => {
  const n = Number(process.argv[2] || 8);
  const runs = Number(process.argv[3] || 3);
  const browser = await launch();
  const medians = [];
  try {
    for (let i = 0; i < runs; i++) {
      const ms = await run(browser, n, i);
      medians.push(median(ms));
      console.log(`run ${i + 1}: median ${median(ms).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms (${ms.map((x) => x.toFixed(0)).join(' ')})`);
    }
    console.log(`${n} watchers at once, median of run medians: ${median(medians).toFixed(0)} ms`);
  } finally {
    await browser.close();
  }
})().catch((err) => { console.error(err); process.exitCode = 1; });
