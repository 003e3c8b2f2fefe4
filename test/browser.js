// Headless Debian Chromium driven by playwright-core, with a fake camera
// and microphone, for the page tests.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = path.join(__dirname, '..', 'test-results');

// launch starts Chromium; with { link } (test/netns.js) inside that link's
// namespace, where the pages at link.hostIP count as secure (the camera
// needs it) with { secure: [origins] }.
async function launch({ link = null, secure = [] } = {}) {
  return chromium.launch({
    executablePath: link ? link.chromium(executablePath) : executablePath,
    args: [
      ...(secure.length ? [`--unsafely-treat-insecure-origin-as-secure=${secure.join(',')}`] : []),
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--allow-loopback-in-peer-connection',
      // getDisplayMedia picks the fake screen without a picker.
      '--auto-select-desktop-capture-source=Entire screen',
    ],
  });
}

// violations collects the Content-Security-Policy violations of every page
// open() made, for the tests to assert there are none (takeViolations).
const violations = [];
// Every context open opened, for closeAll.
const contexts = new Set();

// takeViolations returns the CSP violations seen since the last call.
function takeViolations() {
  return violations.splice(0);
}

// open loads url in a fresh context that may use the camera and microphone
// (without that permission Chromium gathers only mDNS host candidates).
// With { mdns: true } the page's host candidates carry mDNS names instead
// of addresses, as a page without that permission sends them elsewhere
// (this Chromium, on a loopback origin, names its addresses anyway): a
// name per address, which nobody here resolves.
// A CSP violation on the page is recorded for takeViolations. With
// { small: true } the page's camera is asked for 320x240 at 15 fps and its
// shared screen for at most 854x480 at 15 fps, still 16:9 (the page takes
// what the devices give: 640x480, and 1280x720 at 30 fps; Chromium's fake
// screen asked for 640x360 gives 480x360 frames): less to encode and
// decode for a test of many pages on a small machine. With { camera: {width,
// height, frameRate} } the camera is asked for that instead.
async function open(browser, url, { small = false, mdns = false, camera = null } = {}) {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  contexts.add(context);
  await context.grantPermissions(['camera', 'microphone']);
  if (mdns) {
    await context.addInitScript(() => {
      const names = new Map();
      const named = (a) => {
        if (!names.has(a)) names.set(a, `${crypto.randomUUID()}.local`);
        return names.get(a);
      };
      // candidate:foundation component protocol priority address port typ host ...
      const rename = (c) => {
        const f = c.split(' ');
        if (f[6] !== 'typ' || f[7] !== 'host') return c;
        f[4] = named(f[4]);
        return f.join(' ');
      };
      const candidate = Object.getOwnPropertyDescriptor(RTCIceCandidate.prototype, 'candidate').get;
      Object.defineProperty(RTCIceCandidate.prototype, 'candidate', {
        configurable: true,
        get() { return rename(candidate.call(this)); },
      });
      // The candidates a description already holds (an answer sent again).
      const sdp = Object.getOwnPropertyDescriptor(RTCSessionDescription.prototype, 'sdp').get;
      Object.defineProperty(RTCSessionDescription.prototype, 'sdp', {
        configurable: true,
        get() {
          return sdp.call(this).split('\r\n').map((l) => (l.startsWith('a=candidate:') ? `a=${rename(l.slice(2))}` : l)).join('\r\n');
        },
      });
    });
  }
  if (camera) {
    await context.addInitScript((size) => {
      const md = navigator.mediaDevices;
      if (!md) return;
      const userMedia = md.getUserMedia.bind(md);
      md.getUserMedia = (c) => userMedia(c?.video === true ? { ...c, video: size } : c);
    }, camera);
  }
  if (small) {
    await context.addInitScript(() => {
      const md = navigator.mediaDevices;
      if (!md) return;
      const userMedia = md.getUserMedia.bind(md);
      const displayMedia = md.getDisplayMedia.bind(md);
      md.getUserMedia = (c) => userMedia(c?.video === true ? { ...c, video: { width: 320, height: 240, frameRate: 15 } } : c);
      md.getDisplayMedia = (c) => displayMedia(c?.video === true
        ? { ...c, video: { width: { max: 854 }, height: { max: 480 }, frameRate: { max: 15 } } } : c);
    });
  }
  // Keep every RTCPeerConnection a page makes reachable, for getStats, and
  // the address of every ICE candidate they gathered, as the page sent it.
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.__pcs = [];
    window.__candidates = [];
    window.RTCPeerConnection = function (...args) {
      const pc = new Native(...args);
      window.__pcs.push(pc);
      pc.addEventListener('icecandidate', (e) => { if (e.candidate) window.__candidates.push(e.candidate.candidate.split(' ')[4]); });
      return pc;
    };
    window.RTCPeerConnection.prototype = Native.prototype;
  });
  // Report each CSP violation on the console, where the test sees it.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.effectiveDirective} refused ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return load(context, url);
}

// closeAll closes every page open and reopen made: a page left open keeps
// its fake camera encoding, and would load the machine for later tests.
async function closeAll() {
  const all = [...contexts];
  contexts.clear();
  await Promise.all(all.map((c) => c.close().catch(() => {})));
}

// reopen loads url in a new page of page's context: the same browser
// profile, as a user reopening a tab after a crash.
async function reopen(page, url) {
  return load(page.context(), url);
}

async function load(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`page error (${url}):`, err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /CSP violation|Content Security Policy/.test(msg.text())) {
      violations.push(`${url}: ${msg.text()}`);
    }
  });
  await page.goto(url);
  return page;
}

// crash kills the page's renderer: no unload handler runs, so only the
// server can tell the room that the socket is gone.
async function crash(page) {
  const cdp = await page.context().newCDPSession(page);
  cdp.send('Page.crash').catch(() => {}); // never answers: the renderer is gone
}

// waitState resolves once the page's status line matches pattern; a wait
// that times out says what it shows.
async function waitState(page, pattern, timeout = 20000) {
  try {
    await page.waitForFunction(
      (src) => new RegExp(src).test(document.getElementById('state').textContent),
      pattern.source, { timeout },
    );
  } catch (err) {
    const shown = await page.$eval('#state', (el) => el.textContent).catch(() => '(no page)');
    throw new Error(`${page.url()}: ${err.message}: waited for ${pattern}, shows "${shown}"`);
  }
}

// videoReport describes what the page's video element and its connections'
// inbound video show, for a failed wait's message.
async function videoReport(page, selector) {
  return page.evaluate(async (sel) => {
    const v = document.querySelector(sel);
    const out = [`state "${document.getElementById('state')?.textContent}"`, `video ${v.videoWidth}x${v.videoHeight}, ${v.getVideoPlaybackQuality().totalVideoFrames} frames shown`];
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      for (const s of (await pc.getStats()).values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          out.push(`inbound video: ${pc.connectionState}, ${s.packetsReceived} packets (${s.packetsLost} lost, ${s.nackCount} NACKs), ${s.framesReceived} frames received, ${s.framesDecoded} decoded (${s.keyFramesDecoded} key), ${s.framesDropped} dropped, ${s.pliCount} PLIs, ${s.firCount} FIRs, ${s.freezeCount} freezes`);
        }
      }
    }
    return out.join('; ');
  }, selector).catch((err) => `no report: ${err.message}`);
}

// framesAdvance resolves once the page's video decodes `count` more frames
// and its picture changes between two samples: moving video, not a still.
// A wait that times out says what the page's video shows (videoReport).
async function framesAdvance(page, selector, count = 10, timeout = 20000) {
  const wait = async (fn, arg) => {
    try {
      await page.waitForFunction(fn, arg, { timeout });
    } catch (err) {
      throw new Error(`${page.url()}: ${err.message}; ${await videoReport(page, selector)}`);
    }
  };
  await wait((sel) => document.querySelector(sel).videoWidth > 0, selector);
  const start = await page.evaluate((sel) => document.querySelector(sel).getVideoPlaybackQuality().totalVideoFrames, selector);
  await wait(([sel, n]) => document.querySelector(sel).getVideoPlaybackQuality().totalVideoFrames >= n, [selector, start + count]);
  const sample = () => page.evaluate((sel) => {
    const v = document.querySelector(sel);
    const c = document.createElement('canvas');
    c.width = 64; c.height = 48;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0, c.width, c.height);
    return Array.from(g.getImageData(0, 0, c.width, c.height).data);
  }, selector);
  const first = await sample();
  await wait(([sel, n]) => document.querySelector(sel).getVideoPlaybackQuality().totalVideoFrames >= n, [selector, start + 2 * count]);
  const second = await sample();
  let changed = 0;
  for (let i = 0; i < first.length; i += 4) if (first[i] !== second[i] || first[i + 1] !== second[i + 1]) changed++;
  if (changed === 0) throw new Error(`${selector}: picture did not change between samples`);
  if (first.every((v, i) => i % 4 === 3 || v === 0)) throw new Error(`${selector}: picture is black`);
}

async function screenshot(page, name) {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

module.exports = { launch, open, reopen, closeAll, takeViolations, crash, waitState, framesAdvance, screenshot };
