// Test media made at test time with Debian's ffmpeg: a moving test card
// (VP8 in IVF, 1 s between keyframes) and a tone (Opus in Ogg, one packet
// per page).
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function makeMedia(seconds = 5) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'broadcast-media-'));
  const video = path.join(dir, 'talk.ivf');
  const audio = path.join(dir, 'talk.ogg');
  const ff = (args) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  ff(['-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30`, '-t', String(seconds), '-c:v', 'libvpx', '-g', '30', '-b:v', '600k', '-deadline', 'realtime', video]);
  ff(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds), '-c:a', 'libopus', '-page_duration', '20000', audio]);
  return { dir, video, audio, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

// goTalker runs `broadcast talk` and resolves once it is on air.
async function goTalker(binary, url, room, media, extra = []) {
  const proc = spawn(binary, ['talk', '-server', url, '-room', room, '-video', media.video, '-audio', media.audio, ...extra], { stdio: ['pipe', 'ignore', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`talker not on air:\n${log}`)), 15000);
    proc.stderr.on('data', (d) => { log += d; if (/msg="on air"/.test(log)) { clearTimeout(timer); resolve(); } });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`talker exited ${code}:\n${log}`)); });
  });
  return {
    proc,
    log: () => log,
    stop: () => new Promise((resolve) => { if (proc.exitCode !== null) return resolve(proc.exitCode); proc.on('exit', (code) => resolve(code)); proc.kill('SIGTERM'); }),
  };
}

// whipPublisher runs scripts/whip-publish.sh, Debian's whip-client (a
// WHIP client the project did not write) publishing a test pattern in
// codec to url's WHIP endpoint for room, and resolves once its media
// connection is up. stop() interrupts it: it ends its session (DELETE).
async function whipPublisher(url, room, codec = 'vp8', token = '') {
  const script = path.join(__dirname, '..', 'scripts', 'whip-publish.sh');
  const proc = spawn(script, [`${url}/whip/${encodeURIComponent(room)}`, codec, ...(token ? [token] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const collect = (d) => { log += d; };
  proc.stdout.on('data', collect);
  proc.stderr.on('data', collect);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`WHIP client not connected:\n${log}`)), 30000);
    proc.stdout.on('data', () => { if (/PeerConnection connected/.test(log)) { clearTimeout(timer); resolve(); } });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`WHIP client exited ${code}:\n${log}`)); });
  });
  return {
    log: () => log,
    stop: () => new Promise((resolve) => { if (proc.exitCode !== null) return resolve(proc.exitCode); proc.on('exit', (code) => resolve(code)); proc.kill('SIGINT'); }),
  };
}

module.exports = { makeMedia, goTalker, whipPublisher };
