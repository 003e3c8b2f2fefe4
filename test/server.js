// Starts the broadcast binary (bin/broadcast, built by `make build`) on a
// loopback port, with its metrics on another, and stops it, checking that it
// drains and exits cleanly.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const assert = require('node:assert/strict');

const binary = path.join(__dirname, '..', 'bin', 'broadcast');

// With { everywhere: true } it listens on every address, for pages in a
// test/netns.js namespace (at(link.hostIP) is its URL there); its url is
// still on loopback.
async function startServer(args = [], { everywhere = false } = {}) {
  const addr = everywhere ? '0.0.0.0:0' : '127.0.0.1:0';
  const proc = spawn(binary, ['-addr', addr, '-metrics-addr', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const { url, metricsUrl } = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 15000);
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /msg=listening url=(\S+).* metrics=(\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1].replace(/\/\/(0\.0\.0\.0|\[::\]):/, '//127.0.0.1:'), metricsUrl: m[2] });
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return {
    url,
    // at returns the server's URL at address ip of this host.
    at: (ip) => url.replace('//127.0.0.1:', `//${ip}:`),
    // metricsUrl is /metrics on the metrics address (-metrics-addr), apart
    // from url.
    metricsUrl,
    log: () => log,
    // metric returns a sample's value from /metrics (NaN if absent).
    async metric(name) {
      const text = await (await fetch(metricsUrl)).text();
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : NaN;
    },
    // waitLog resolves once the log after offset `since` matches pattern.
    waitLog(pattern, since = 0, timeout = 20000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(log.slice(since))) return false;
          clearTimeout(timer);
          proc.stderr.off('data', check);
          resolve();
          return true;
        };
        const timer = setTimeout(() => {
          proc.stderr.off('data', check);
          reject(new Error(`no ${pattern} in the server log within ${timeout} ms:\n${log.slice(since)}`));
        }, timeout);
        if (!check()) proc.stderr.on('data', check);
      });
    },
    // kill ends the server with SIGKILL: no drain, no farewell to other nodes.
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.on('exit', resolve));
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
      proc.kill('SIGTERM');
      const { code } = await exited;
      assert.equal(code, 0, `server exit code after SIGTERM; log:\n${log}`);
    },
  };
}

// waitFor resolves once check() resolves true, trying every 200 ms, and
// rejects after timeout ms.
async function waitFor(what, check, timeout = 20000) {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`no ${what} within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

module.exports = { startServer, binary, waitFor };
