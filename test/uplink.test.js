// The talk page's uplink measurement (static/uplink.js): statistics in,
// the direct watchers it carries out.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');

const load = () => import('../static/uplink.js');

// stats makes an RTCStatsReport-like Map: a selected candidate pair with
// avail bits/s, and outbound video and audio that sent bytes, the video
// held back cpu seconds of total.
function stats({ avail, video, audio = 0, cpu = 0, bandwidth = 0, total = 0 }) {
  return new Map([
    ['T', { type: 'transport', selectedCandidatePairId: 'P' }],
    ['P', { type: 'candidate-pair', availableOutgoingBitrate: avail }],
    ['V', { type: 'outbound-rtp', kind: 'video', bytesSent: video, qualityLimitationDurations: { cpu, bandwidth, none: total - cpu - bandwidth, other: 0 } }],
    ['A', { type: 'outbound-rtp', kind: 'audio', bytesSent: audio }],
  ]);
}

test('a connection sample: the selected pair\'s estimate, what video and audio sent (smoothed), and the share held back for CPU', async () => {
  const { sampleConnection } = await load();
  const first = sampleConnection(stats({ avail: 900_000, video: 0, total: 0 }), null, 1000);
  assert.deepEqual([first.avail, first.sent, first.cpu], [900_000, 0, 0]);
  // 62 500 bytes of video and audio in one second: 500 kbit/s, 0.6 s of it held back for CPU.
  const second = sampleConnection(stats({ avail: 950_000, video: 60_000, audio: 2_500, cpu: 0.6, total: 1 }), first, 2000);
  assert.equal(second.sent, 500_000);
  assert.equal(second.cpu, 0.6);
  // A keyframe's second, 1 Mbit/s, counts half against the last.
  const third = sampleConnection(stats({ avail: 950_000, video: 185_000, audio: 2_500, cpu: 0.6, total: 2 }), second, 3000);
  assert.equal(third.sent, 750_000);
  assert.equal(third.cpu, 0);
  // Held back for bandwidth for 0.75 of the next second.
  const fourth = sampleConnection(stats({ avail: 400_000, video: 235_000, audio: 2_500, cpu: 0.6, bandwidth: 0.75, total: 3 }), third, 4000);
  assert.equal(fourth.bandwidth, 0.75);
});

// conn makes one connection as measureUplink takes it.
const conn = (upMs, sent, avail, { relay = false, probed = null } = {}) => ({ relay, upMs, sample: { avail, sent, cpu: 0 }, probed });

test('the uplink is what the newest settled connection probed, its estimate plus what the others sent; each watcher counts at what the direct ones are sent', async () => {
  const { measureUplink, probedCapacity, roomForOneMore, overCapacity, settleMs } = await load();
  assert.deepEqual(measureUplink([conn(500, 0, 300_000)], 1_500_000), { known: false, each: 0 });
  assert.equal(roomForOneMore({ known: false }, 9), true, 'unknown: the server\'s cap alone');

  const a = conn(10_000, 500_000, 2_700_000);
  const b = conn(settleMs, 480_000, 800_000);
  b.probed = probedCapacity(b, [a, b]);
  a.probed = 2_700_000; // probed alone, earlier
  assert.equal(b.probed, 1_300_000);
  const u = measureUplink([a, b], 1_500_000);
  assert.equal(u.capacity, 1_300_000, 'the newest probe, not the stale first one');
  assert.equal(u.each, 490_000);
  assert.equal(overCapacity(u, 2), false);
  assert.equal(overCapacity(u, 3), false, 'a probe that found less is no proof');
  // The estimates of connections sending less than they could sum to 3.5
  // Mbit/s: no bound, and no congestion, so a third may be tried, unless
  // a failed trial left two.
  assert.equal(u.ceiling, 3_500_000);
  assert.equal(roomForOneMore(u, 2), true);
  assert.equal(roomForOneMore(u, 2, 2), false);
  assert.equal(roomForOneMore({ known: false }, 2, 2), false);
  // With estimates that sum to less than the two need, congested: none to try.
  const tight = measureUplink([{ ...a, sample: { ...a.sample, avail: 400_000 } }, { ...b, probed: 1_000_000, sample: { ...b.sample, avail: 400_000 } }], 1_500_000);
  assert.equal(tight.ceiling, 1_000_000);
  assert.equal(tight.carried, 1);
  assert.equal(roomForOneMore(tight, 2), false);
  assert.equal(overCapacity(tight, 2), true);
  // One direct watcher is never moved off.
  assert.equal(overCapacity({ ...u, carried: 0 }, 1), false);

  // Congested, the direct ones are sent less than they want: each keeps
  // counting at the most it was.
  const squeezed = measureUplink([{ ...a, sample: { ...a.sample, sent: 300_000 } }, { ...b, sample: { ...b.sample, sent: 280_000 } }], 1_500_000, u.each);
  assert.equal(squeezed.each, 490_000);
  assert.equal(squeezed.capacity, 1_300_000);
  // A probe that promised too much: three settled on an uplink whose
  // estimates fall to their shares, summing less than the probe.
  const c = { ...conn(settleMs + 5000, 400_000, 450_000), probed: 2_600_000 };
  const congested = measureUplink([{ ...a, sample: { ...a.sample, avail: 420_000 } }, { ...b, sample: { ...b.sample, avail: 430_000 } }, c], 1_500_000, u.each);
  assert.equal(congested.capacity, 1_300_000);
  assert.equal(congested.carried, 3, '1.3 / (0.49 × 0.85)');
  assert.equal(overCapacity(congested, 3), false, 'estimates at 88 % of the need: no proof');
  const squeezedMore = measureUplink([{ ...a, sample: { ...a.sample, avail: 380_000 } }, { ...b, sample: { ...b.sample, avail: 380_000 } }, { ...c, sample: { ...c.sample, avail: 380_000 } }], 1_500_000, u.each);
  assert.equal(squeezedMore.carried, 2, '1.14 / (0.49 × 0.85)');
  assert.equal(overCapacity(squeezedMore, 3), true);
  // A connection still probing counts at what it sends, not its estimate.
  const young = conn(500, 100_000, 300_000);
  assert.equal(measureUplink([{ ...a, sample: { ...a.sample, avail: 1_000_000 } }, { ...b, sample: { ...b.sample, avail: 1_000_000 } }, young], 1_500_000, u.each).capacity, 1_300_000);
  // At most -direct-bitrate.
  assert.equal(measureUplink([a, b], 400_000).each, 400_000);
});

test('direct watchers all held back for bandwidth and sent under 85 % of what each counts for are squeezed: congested, whatever the estimates sum to; one alone is not', async () => {
  const { measureUplink, overCapacity, roomForOneMore } = await load();
  const held = (sent) => ({ ...conn(10_000, sent, 900_000), probed: 1_400_000, sample: { avail: 900_000, sent, cpu: 0, bandwidth: 0.9 } });
  // Each counted for 500 kbit/s on air; three now sent 300 each, all held back for bandwidth.
  const u = measureUplink([held(300_000), held(300_000), held(310_000)], 1_500_000, 500_000);
  assert.equal(u.carried >= 3, true, 'the estimates (2.7 Mbit/s) promise room');
  assert.equal(u.squeezed, true);
  assert.equal(overCapacity(u, 3), true);
  assert.equal(roomForOneMore(u, 3), false);
  // One watcher's own poor link holds back its connection alone: not the uplink.
  const one = measureUplink([held(300_000), { ...held(480_000), sample: { avail: 900_000, sent: 480_000, cpu: 0, bandwidth: 0 } }], 1_500_000, 500_000);
  assert.equal(one.squeezed, false);
  // Held back but sent what each counts for: not squeezed.
  assert.equal(measureUplink([held(480_000), held(490_000)], 1_500_000, 500_000).squeezed, false);
});

test('the relay\'s feed is taken off what the direct watchers get, and the CPU holding video back leaves no room', async () => {
  const { measureUplink, roomForOneMore } = await load();
  const direct = { ...conn(10_000, 500_000, 1_000_000), probed: 1_000_000 };
  const feed = { ...conn(5_000, 300_000, 900_000, { relay: true }), probed: 1_500_000 };
  const u = measureUplink([direct, feed], 1_500_000);
  assert.equal(u.capacity, 1_000_000, 'the direct watcher\'s probe: the feed\'s counts only without one');
  assert.equal(u.carried, 3, '(1.9 - 0.3) / (0.5 × 0.85)');
  const cpu = measureUplink([{ ...direct, sample: { ...direct.sample, cpu: 0.7 } }, feed], 1_500_000);
  assert.equal(cpu.cpu, true);
  assert.equal(roomForOneMore(cpu, 1), false);
  assert.equal(roomForOneMore(u, 1), true);
  assert.equal(roomForOneMore(u, 3), true);
  assert.equal(roomForOneMore(u, 4), false, 'the estimates carry three');
});

test('the feed\'s layers: those the budget carries, the lowest always, one back only with a fifth more room', async () => {
  const { feedLayers } = await load();
  const layers = [{ maxBitrate: 150_000 }, { maxBitrate: 500_000 }, { maxBitrate: 1_500_000 }];
  assert.deepEqual(feedLayers(layers, [true, true, true], null), [true, true, true]);
  assert.deepEqual(feedLayers(layers, [true, true, true], 0), [true, false, false]);
  assert.deepEqual(feedLayers(layers, [true, true, true], 700_000), [true, true, false]);
  assert.deepEqual(feedLayers(layers, [true, false, false], 700_000), [true, false, false], '650k needs 780k to come back');
  assert.deepEqual(feedLayers(layers, [true, false, false], 800_000), [true, true, false]);
  assert.deepEqual(feedLayers(layers, [true, true, true], 2_150_000), [true, true, true]);
});

test('the feed\'s lowest layer is held to the budget, down to a floor', async () => {
  const { lowestLayerBitrate, feedFloorBitrate } = await load();
  assert.equal(lowestLayerBitrate(500_000, null), 500_000);
  assert.equal(lowestLayerBitrate(500_000, 900_000), 500_000);
  assert.equal(lowestLayerBitrate(500_000, 240_000), 240_000);
  assert.equal(lowestLayerBitrate(500_000, -50_000), feedFloorBitrate);
});

test('what the talk page says of its uplink', async () => {
  const { describe } = await load();
  assert.equal(describe({ known: false }, 0, 10), 'uplink: measuring; at most 10 direct watchers (the server\'s cap)');
  const u = { known: true, capacity: 1_300_000, ceiling: 1_800_000, each: 490_000, carried: 3, cpu: false };
  assert.equal(describe(u, 2, 10), 'uplink ≈ 1.8 Mbit/s, 0.5 Mbit/s a watcher: room to try one more direct');
  assert.equal(describe(u, 2, 10, 2), 'uplink ≈ 1.3 Mbit/s, 0.5 Mbit/s a watcher: full at 2 direct');
  assert.equal(describe(u, 4, 10), 'uplink ≈ 1.3 Mbit/s, 0.5 Mbit/s a watcher: congested at 4 direct');
  assert.equal(describe(u, 2, 2), 'uplink ≈ 1.8 Mbit/s, 0.5 Mbit/s a watcher: 2 direct (the server\'s cap)');
  assert.equal(describe({ ...u, cpu: true }, 1, 10), 'uplink ≈ 1.3 Mbit/s, 0.5 Mbit/s a watcher; CPU full: 1 direct, no more');
});
