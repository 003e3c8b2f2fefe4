// Smoothness of a relay watcher's start in Chromium: watch.html joins a
// live relay room (-relay always) fed by a Go talker playing a 640x480
// 30 fps VP8 file with a keyframe every 2 s, at a random point of the
// group of pictures, and its inbound-rtp statistics are read for
// `seconds` from its first frame.
//   node bench/relay-smooth.js [seconds=10] [runs=3]      (after `make build`)
// Two files, the same picture (a test card with noise) at two bitrates:
//   cached    1 Mbit/s: a 2 s group is about 250 KB, within the relay's
//             GOP cache (relay.DefaultGOPCacheBytes, 512 KiB, and its
//             512-packet buffer): the watcher starts on the cached group,
//             replayed 16x fast.
//   large     8 Mbit/s: a group outgrows the cache's bounds within about
//             0.6 s of its keyframe: a join later in the group starts on
//             the next keyframe (a Go talker from a file cannot make one
//             when asked), with live timestamps and nothing replayed; one
//             earlier replays a short group. The relay's log tells which:
//             a replay's first packet goes 0 ms after the watcher's media
//             path is up, a keyframe awaited later.
// The server has no switch to turn the cache off; the large file stands
// in for joins that get no replay.
// Reported per join: time to first frame; over the window, video freezes
// (count, total), frames received / decoded / dropped, frames decoded in
// each 500 ms of the first 4 s, the jitter buffer's mean delay, the
// inter-frame delay's mean and standard deviation; audio concealed
// samples of those received; and A/V sync, the video's estimated playout
// time less the audio's (ms), over the window's samples.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, binary } = require('../test/server');
const { launch, open } = require('../test/browser');
const { goTalker } = require('../test/media');

function makeMedia(dir, name, bitrate, seconds) {
  const ff = (args) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  const video = path.join(dir, `${name}.ivf`);
  const audio = path.join(dir, 'tone.ogg');
  ff(['-f', 'lavfi', '-i', 'testsrc=size=640x480:rate=30', '-vf', 'noise=alls=12:allf=t', '-t', String(seconds),
    '-c:v', 'libvpx', '-g', '60', '-keyint_min', '60', '-b:v', bitrate, '-minrate', bitrate, '-maxrate', bitrate, '-deadline', 'realtime', video]);
  if (!fs.existsSync(audio)) ff(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds), '-c:a', 'libopus', '-page_duration', '20000', audio]);
  return { video, audio };
}

// sample reads the page's inbound-rtp video and audio statistics.
const sample = (page) => page.evaluate(async () => {
  const out = { t: performance.now() };
  for (const pc of window.__pcs) {
    if (pc.connectionState === 'closed') continue;
    for (const s of (await pc.getStats()).values()) {
      if (s.type === 'inbound-rtp') out[s.kind] = s;
    }
  }
  return out;
});

async function join(browser, server, room, seconds) {
  const w = await open(browser, `${server.url}/watch.html?room=${room}`);
  await w.waitForSelector('#request:not([disabled])');
  await w.evaluate(() => {
    const v = document.getElementById('remote-video');
    document.getElementById('request').addEventListener('click', () => {
      const t0 = performance.now();
      v.requestVideoFrameCallback(() => { window.ttff = performance.now() - t0; });
    });
  });
  await w.click('#request');
  await w.waitForFunction(() => window.ttff !== undefined, null, { timeout: 30000 });
  const samples = [await sample(w)];
  for (let i = 0; i < seconds * 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500)); // a reading every 500 ms
    samples.push(await sample(w));
  }
  const ttff = await w.evaluate(() => window.ttff);
  await w.context().close();
  return { ttff, samples };
}

function summary({ ttff, samples }) {
  const last = samples.at(-1);
  const v = last.video;
  const a = last.audio || {};
  const second = samples.find((s) => s.t - samples[0].t >= 1000)?.video;
  const sync = samples.filter((s) => s.video?.estimatedPlayoutTimestamp && s.audio?.estimatedPlayoutTimestamp)
    .map((s) => s.video.estimatedPlayoutTimestamp - s.audio.estimatedPlayoutTimestamp);
  const mean = v.totalInterFrameDelay / v.framesDecoded;
  const sd = Math.sqrt(Math.max(0, v.totalSquaredInterFrameDelay / v.framesDecoded - mean * mean));
  const f = (x, d = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
  return [
    `ttff ${f(ttff)} ms`,
    `video: ${v.freezeCount} freezes (${f(v.totalFreezesDuration * 1000)} ms), ${v.framesReceived} received, ${v.framesDecoded} decoded, ${v.framesDropped} dropped, ${v.keyFramesDecoded} key; ${second?.framesReceived ?? '-'} received in the first second`,
    `decoded per 500 ms: ${samples.slice(1, 9).map((s, i) => s.video.framesDecoded - samples[i].video.framesDecoded).join(' ')}`,
    `jitter buffer ${f((v.jitterBufferDelay / v.jitterBufferEmittedCount) * 1000)} ms, inter-frame ${f(mean * 1000)} ms mean, ${f(sd * 1000)} ms sd, ${v.packetsLost} lost`,
    `audio: ${a.concealedSamples ?? '-'} of ${a.totalSamplesReceived ?? '-'} samples concealed (${f((100 * a.concealedSamples) / a.totalSamplesReceived, 2)}%), jitter buffer ${f((a.jitterBufferDelay / a.jitterBufferEmittedCount) * 1000)} ms`,
    `A/V (video less audio playout) ${sync.length ? `${f(Math.min(...sync))}..${f(Math.max(...sync))} ms, last ${f(sync.at(-1))} ms` : 'not reported'}`,
  ].join('; ');
}

(async () => {
  const [seconds = 10, runs = 3] = process.argv.slice(2).map(Number);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-smooth-'));
  const length = runs * (seconds + 8) + 30;
  const files = { cached: makeMedia(dir, 'cached', '1M', length), large: makeMedia(dir, 'large', '8M', length) };
  const browser = await launch();
  try {
    for (const [mode, media] of Object.entries(files)) {
      const server = await startServer(['-relay', 'always', '-log-level', 'debug']);
      const talk = await goTalker(binary, server.url, 'smooth', media);
      try {
        await server.waitLog(/talker's track in" .*kind=video/, 0, 30000);
        for (let i = 0; i < runs; i++) {
          // A random point of the 2 s group: the bench's chosen moment.
          await new Promise((resolve) => setTimeout(resolve, 1000 + Math.random() * 2000));
          const mark = server.log().length;
          const r = await join(browser, server, 'smooth', seconds);
          const started = /watcher started.* keyframe=(\S+) after_ms=(\d+)/.exec(server.log().slice(mark));
          const how = !started ? '?' : started[2] === '0' ? 'replayed the cached group' : `waited ${started[2]} ms for a keyframe`;
          console.log(`${mode} ${i + 1}: ${summary(r)}; relay: ${how}`);
        }
        console.log(`${mode}: ${await server.metric('broadcast_relay_plis_total')} PLIs to the talker, ${await server.metric('broadcast_relay_nacks_served_total')} NACKs served`);
      } finally {
        await talk.stop();
        await server.stop();
      }
    }
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((err) => { console.error(err); process.exitCode = 1; });
