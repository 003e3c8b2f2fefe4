// Headless Debian Chromium driven by playwright-core, with a fake camera
// and microphone, for the page tests.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = path.join(__dirname, '..', 'test-results');

async function launch() {
  return chromium.launch({
    executablePath,
    args: [
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
// A CSP violation on the page is recorded for takeViolations.
async function open(browser, url) {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  contexts.add(context);
  await context.grantPermissions(['camera', 'microphone']);
  // Keep every RTCPeerConnection a page makes reachable, for getStats.
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = function (...args) {
      const pc = new Native(...args);
      window.__pcs.push(pc);
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

async function waitState(page, pattern, timeout = 20000) {
  await page.waitForFunction(
    (src) => new RegExp(src).test(document.getElementById('state').textContent),
    pattern.source, { timeout },
  );
}

// framesAdvance resolves once the page's video decodes `count` more frames
// and its picture changes between two samples: moving video, not a still.
async function framesAdvance(page, selector, count = 10, timeout = 20000) {
  await page.waitForFunction((sel) => document.querySelector(sel).videoWidth > 0, selector, { timeout });
  const start = await page.evaluate((sel) => document.querySelector(sel).getVideoPlaybackQuality().totalVideoFrames, selector);
  await page.waitForFunction(
    ([sel, n]) => document.querySelector(sel).getVideoPlaybackQuality().totalVideoFrames >= n,
    [selector, start + count], { timeout },
  );
  const sample = () => page.evaluate((sel) => {
    const v = document.querySelector(sel);
    const c = document.createElement('canvas');
    c.width = 64; c.height = 48;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0, c.width, c.height);
    return Array.from(g.getImageData(0, 0, c.width, c.height).data);
  }, selector);
  const first = await sample();
  await page.waitForFunction(([sel, n]) => document.querySelector(sel).getVideoPlaybackQuality().totalVideoFrames >= n,
    [selector, start + 2 * count], { timeout });
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
