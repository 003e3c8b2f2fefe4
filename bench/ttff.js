// Join speed: time from the Request click to the first decoded frame, for N
// watchers clicking at once, in headless Chromium on loopback.
//   node bench/ttff.js [watchers=8] [runs=3] [--relay] [--go-talker] [--after=5]
// (after `make build`)
//   default      talk.html serves every watcher itself (the mesh).
//   --relay      the server runs with -relay always: the watchers join a
//                live relay room, --after seconds after the relay's stream
//                began, and each run reports the relay's figures from
//                /metrics (PLIs sent to the talker, watchers started on a
//                keyframe, mean wait from media path up to first packet).
//   --go-talker  the talker is `broadcast talk` playing a 640x480 30 fps
//                VP8 file with a keyframe every 2 s (made with ffmpeg), in
//                place of talk.html's fake camera.
'use strict';
const { startServer, binary } = require('../test/server');
const { launch, open, waitState } = require('../test/browser');
const { goTalker } = require('../test/media');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]; };
const median = (xs) => quantile(xs, 0.5);

// goMedia makes the Go talker's files: 2 s groups of pictures at 30 fps
// and 1 Mbit/s, and a tone.
function goMedia(seconds) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ttff-media-'));
  const ff = (args) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  const video = path.join(dir, 'talk.ivf');
  const audio = path.join(dir, 'talk.ogg');
  ff(['-f', 'lavfi', '-i', 'testsrc=size=640x480:rate=30', '-t', String(seconds), '-c:v', 'libvpx', '-g', '60', '-keyint_min', '60', '-b:v', '1M', '-deadline', 'realtime', video]);
  ff(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds), '-c:a', 'libopus', '-page_duration', '20000', audio]);
  return { dir, video, audio, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function run(browser, n, i, opts) {
  const args = ['-max-watchers', String(Math.max(n, 10))];
  if (opts.relay) args.push('-relay', 'always', '-relay-max-watchers', String(Math.max(n, 10)));
  const server = await startServer(args);
  const room = `ttff-${i}`;
  let talk;
  let goTalk;
  try {
    if (opts.media) {
      goTalk = await goTalker(binary, server.url, room, opts.media);
    } else {
      talk = await open(browser, `${server.url}/talk.html?room=${room}`);
      await talk.click('#onair');
      await waitState(talk, /^on air/);
    }
    // The relay's stream is up once it has the talker's video track.
    if (opts.relay) await server.waitLog(/talker's track in" .*kind=video/, 0, 30000);
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
    // Join --after seconds into the stream (a bench's chosen moment, not a wait for anything).
    await new Promise((resolve) => setTimeout(resolve, opts.after * 1000));
    await Promise.all(watchers.map((w) => w.click('#request')));
    await Promise.all(watchers.map((w) => w.waitForFunction(() => window.ttff !== undefined, null, { timeout: 60000 })));
    const ms = await Promise.all(watchers.map((w) => w.evaluate(() => window.ttff)));
    let relay = '';
    if (opts.relay) {
      const m = async (name) => server.metric(name);
      const started = await m('broadcast_relay_watchers_started_total');
      const wait = (await m('broadcast_relay_first_packet_wait_seconds_sum')) / started;
      relay = `; relay: ${started} started, ${await m('broadcast_relay_keyframe_starts_total')} on a keyframe, ${await m('broadcast_relay_plis_total')} PLIs to the talker, mean first-packet wait ${(wait * 1000).toFixed(0)} ms`;
    }
    await Promise.all([talk, ...watchers].filter(Boolean).map((p) => p.context().close()));
    return { ms, relay };
  } finally {
    await goTalk?.stop();
    await server.stop();
  }
}

(async () => {
  const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
  const [n = 8, runs = 3] = process.argv.slice(2).filter((a) => !a.startsWith('--')).map(Number);
  const after = Number((flags.find((f) => f.startsWith('--after=')) || '--after=5').slice('--after='.length));
  const opts = { relay: flags.includes('--relay'), after, media: null };
  if (flags.includes('--go-talker')) opts.media = goMedia(after + 120);
  const browser = await launch();
  const all = [];
  try {
    for (let i = 0; i < runs; i++) {
      const { ms, relay } = await run(browser, n, i, opts);
      all.push(...ms);
      console.log(`run ${i + 1}: median ${median(ms).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms (${ms.map((x) => x.toFixed(0)).join(' ')})${relay}`);
    }
    const how = `${opts.relay ? 'via the relay' : 'mesh'}, ${opts.media ? 'Go talker (2 s groups)' : 'talk.html'}, joined ${after} s in`;
    console.log(`${n} watchers at once, ${how}: p50 ${quantile(all, 0.5).toFixed(0)} ms, p95 ${quantile(all, 0.95).toFixed(0)} ms over ${all.length} joins`);
  } finally {
    await browser.close();
    opts.media?.cleanup();
  }
})().catch((err) => { console.error(err); process.exitCode = 1; });
