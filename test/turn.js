// Starts Debian's coturn on loopback with a shared secret (use-auth-secret),
// as the TURN server the broadcast service hands out credentials for.
'use strict';
const { spawn } = require('node:child_process');
const net = require('node:net');
const { freePort } = require('./port');

async function startTurn(secret) {
  const port = await freePort();
  const proc = spawn('turnserver', [
    '-n', '--no-cli', '--no-tls', '--no-dtls', '--simple-log', '--log-file=stdout',
    '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    '--min-port=49200', '--max-port=49400', '--allow-loopback-peers',
    '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=broadcast.test', '--fingerprint',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  // Ready once its TCP listener accepts.
  for (let i = 0; ; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 100 || proc.exitCode !== null) throw new Error(`turnserver did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100)); // polling a port, bounded
  }
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`,
    log: () => log,
    stop: () => new Promise((resolve) => { if (proc.exitCode !== null) return resolve(); proc.on('exit', resolve); proc.kill('SIGTERM'); }),
  };
}

module.exports = { startTurn };
