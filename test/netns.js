// Test hosts with links of a chosen rate: a network namespace of the
// test's own, joined to this host by a veth pair, with tc's token bucket
// filter (tbf) shaping either way. A Chromium launched inside it reaches
// this host (the server, the relay, pages in the host's browser) at
// link.hostIP, and is reached at link.nsIP; loopback stays each side's own.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = process.getuid?.() === 0;

// run runs a command of iproute2 (ip, tc), through sudo when not root.
function run(cmd, ...args) {
  const [file, argv] = root ? [cmd, args] : ['sudo', ['-n', cmd, ...args]];
  return execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

let made = 0;
// The links not removed yet: removed when the process exits, however.
const open = new Set();
process.on('exit', () => { for (const remove of open) remove(); });

// makeLink makes namespace and veth pair number n of this process (up to
// 63) in 198.18.0.0/15, the block set aside for benchmarking (RFC 2544),
// which no real network uses: the host's end 198.18.k.(4n+1)/30, the
// namespace's 198.18.k.(4n+2)/30, where k spreads test processes apart.
// Call remove() when done.
function makeLink() {
  const n = ++made;
  const tag = `${process.pid % 10000}x${n}`;
  const ns = `bc${tag}`;
  const hostDev = `bch${tag}`;
  const nsDev = `bcn${tag}`;
  const net = `198.18.${process.pid % 256}`;
  const hostIP = `${net}.${4 * n + 1}`;
  const nsIP = `${net}.${4 * n + 2}`;
  const dirs = []; // chromium's scripts' folders
  run('ip', 'netns', 'add', ns);
  try {
    run('ip', 'link', 'add', hostDev, 'type', 'veth', 'peer', 'name', nsDev);
    run('ip', 'link', 'set', nsDev, 'netns', ns);
    run('ip', 'addr', 'add', `${hostIP}/30`, 'dev', hostDev);
    run('ip', 'link', 'set', hostDev, 'up');
    run('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    run('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIP}/30`, 'dev', nsDev);
    run('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', nsDev, 'up');
    run('ip', 'netns', 'exec', ns, 'ip', 'route', 'add', 'default', 'via', hostIP);
  } catch (err) {
    remove();
    throw err;
  }

  // shape limits dev's egress (in namespace ns, or the host's if null) to
  // rate in kbit/s with tbf, or lifts the limit with rate null. The bucket
  // holds 1 ms at the rate, and at least a packet or so: the link sends no
  // faster than its rate, as a real bottleneck does, so that a browser's
  // probe of the link measures the rate. The queue holds 100 ms: past
  // that, packets are dropped, as at a congested home router.
  function shape(inNs, dev, kbit) {
    const pre = inNs ? ['netns', 'exec', ns, 'tc'] : [];
    const tc = (...args) => (inNs ? run('ip', ...pre, ...args) : run('tc', ...args));
    if (kbit === null) {
      try { tc('qdisc', 'del', 'dev', dev, 'root'); } catch { /* none */ }
      return;
    }
    const burst = Math.max(2000, Math.round((kbit * 1000) / 8 / 1000));
    tc('qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', String(burst), 'latency', '100ms');
  }

  function remove() {
    open.delete(remove);
    try { run('ip', 'netns', 'del', ns); } catch { /* gone */ }
    try { run('ip', 'link', 'del', hostDev); } catch { /* went with the namespace */ }
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  }
  open.add(remove);

  return {
    ns,
    hostIP,
    nsIP,
    // up limits what the namespace sends (its uplink), in kbit/s; null lifts it.
    up: (kbit) => shape(true, nsDev, kbit),
    // down limits what the namespace receives (its downlink), in kbit/s.
    down: (kbit) => shape(false, hostDev, kbit),
    // chromium returns the path of a script that starts Chromium inside the
    // namespace, for launch's executablePath.
    chromium(executable) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${ns}-`));
      dirs.push(dir);
      const script = path.join(dir, 'chromium');
      const prefix = root ? '' : 'sudo -n -E ';
      fs.writeFileSync(script, `#!/bin/sh\nexec ${prefix}ip netns exec ${ns} ${executable} "$@"\n`, { mode: 0o755 });
      return script;
    },
    remove,
  };
}

module.exports = { makeLink };
