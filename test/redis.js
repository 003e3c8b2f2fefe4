// Starts Debian's redis-server on a free loopback port, without
// persistence, for the multi-node page tests. restart() starts it again, on
// the same port and empty, after stop().
'use strict';
const { spawn } = require('node:child_process');
const { freePort } = require('./port');

async function run(port) {
  const proc = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 15000);
    proc.stdout.on('data', (d) => {
      log += d;
      if (/Ready to accept connections/.test(log)) { clearTimeout(timer); resolve(); }
    });
    proc.stderr.on('data', (d) => { log += d; });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}:\n${log}`)); });
  });
  return proc;
}

async function startRedis() {
  const port = await freePort();
  let proc = await run(port);
  return {
    url: `redis://127.0.0.1:${port}/0`,
    stop: () => new Promise((resolve) => { if (proc.exitCode !== null) return resolve(); proc.on('exit', resolve); proc.kill('SIGTERM'); }),
    async restart() { proc = await run(port); },
  };
}

module.exports = { startRedis };
