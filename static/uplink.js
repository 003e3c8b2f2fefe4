// The talker's uplink, measured from its own connections: how many
// watchers it can serve itself (directly, in the mesh) at what each is
// sent. talk.html samples each connection's statistics every second
// (sampleConnection) and asks measureUplink before it serves one more.
//
// The browser estimates each connection's bandwidth on its own
// (availableOutgoingBitrate, per its congestion controller). In its first
// seconds a connection probes the link, with the others already sending:
// its estimate then, plus what the others send, is what the uplink
// carried at that time (probedCapacity). Later its estimate only climbs
// as far as what the connection tries to send, and summed, the estimates
// count the same uplink many times over, unless it is congested: then
// each estimate falls to the connection's share, and their sum to what
// the uplink carries. So the uplink surely carries the less of the
// capacity probed by the newest direct connection and the sum of the
// estimates, and may carry the more; and an estimate of a connection that
// sends less than it could is no bound of the uplink: the browser keeps it
// within about twice what it sends. So one more watcher is tried while
// the uplink is not congested, and moved off if the sum then shows
// congestion. Each watcher counts at what
// the direct ones are sent on average (video and audio), at most
// config.directBitrate, and at the most they have been sent on air: a
// congested uplink sends each less than it wants.
//
// The measurement is checked before a watcher is served directly
// (roomForOneMore: the uplink not congested), and after, in its first
// trialMs (overCapacity): while the sum of the estimates says the uplink
// is congested, or the direct watchers are squeezed: every one of them
// sent under congestedShare of what a watcher counts for, its video held
// back for bandwidth (qualityLimitationReason "bandwidth"). The estimates
// of connections sharing a narrow link can sum to more than it carries
// for a while; the watchers each getting less, all at once, is the
// uplink's own doing (one watcher's poor link holds back its own
// connection alone). An estimate that promised too much is found out
// then, and the watcher goes to the relay, or back into the queue.

// settleMs is how long a connection is up before its estimate counts:
// the browser probes the link in its first seconds (and on a busy
// machine, takes a few).
export const settleMs = 3000;

// floorBitrate is the least a direct watcher counts for, in bits/s: an
// audio-only talker's watchers do not each count as nothing.
export const floorBitrate = 50_000;

// congestedShare is the share of what the direct watchers are sent under
// which the sum of the estimates says the uplink is congested: a browser
// lowers its estimate to 85 % of what gets through on congestion, while
// an estimate of a connection sending less than it could stays at or
// above what it sends.
export const congestedShare = 0.85;

// overSamples is how many samples in a row the uplink must be congested
// before the newest direct watcher is moved off it; samples while a
// connection probes do not count.
export const overSamples = 3;

// trialMs is how long after it connects the newest direct watcher may be
// moved off the uplink (if it came up since the last one was): the uplink
// found too small later is no news of its coming, and the watchers served
// do not go one after another.
export const trialMs = 15_000;


// cpuShare is the share of the last second a connection's video was held
// back for CPU (qualityLimitationReason "cpu") from which the talker's
// CPU counts as full.
export const cpuShare = 0.5;

// sampleConnection reads one connection's statistics, stats (an
// RTCStatsReport), against prev (what it returned the last time for this
// connection, or null) at time now (ms). It returns the sample
// measureUplink takes: { at, bytes, cpuSeconds, bandwidthSeconds,
// totalSeconds, avail, sent, cpu, bandwidth } with avail and sent in
// bits/s (0 until known), and cpu and bandwidth the shares of the
// interval its video was limited by CPU and by bandwidth.
export function sampleConnection(stats, prev, now) {
  let bytes = 0;
  let avail = 0;
  let cpuSeconds = 0;
  let bandwidthSeconds = 0;
  let totalSeconds = 0;
  for (const s of stats.values()) {
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      avail = stats.get(s.selectedCandidatePairId)?.availableOutgoingBitrate ?? 0;
    }
    if (s.type === 'outbound-rtp') {
      bytes += s.bytesSent ?? 0;
      if (s.kind === 'video' && s.qualityLimitationDurations) {
        const d = s.qualityLimitationDurations;
        cpuSeconds += d.cpu ?? 0;
        bandwidthSeconds += d.bandwidth ?? 0;
        totalSeconds += (d.cpu ?? 0) + (d.bandwidth ?? 0) + (d.none ?? 0) + (d.other ?? 0);
      }
    }
  }
  const sample = { at: now, bytes, cpuSeconds, bandwidthSeconds, totalSeconds, avail, sent: 0, cpu: 0, bandwidth: 0 };
  if (prev && now > prev.at) {
    // Smoothed: a keyframe makes one interval's rate jump.
    const rate = Math.max(0, ((bytes - prev.bytes) * 8 * 1000) / (now - prev.at));
    sample.sent = prev.sent > 0 ? (prev.sent + rate) / 2 : rate;
    const spent = totalSeconds - prev.totalSeconds;
    sample.cpu = spent > 0 ? (cpuSeconds - prev.cpuSeconds) / spent : 0;
    sample.bandwidth = spent > 0 ? (bandwidthSeconds - (prev.bandwidthSeconds ?? 0)) / spent : 0;
  }
  return sample;
}

// probedCapacity returns what the uplink carries as conn (one of conns,
// the talker's connections up now, each { sample }) measures it: its
// estimate plus what the others send, in bits/s.
export function probedCapacity(conn, conns) {
  return conn.sample.avail + conns.filter((c) => c !== conn).reduce((n, c) => n + c.sample.sent, 0);
}

// measureUplink measures the uplink from conns, the talker's connections
// up now: { relay (true for the feed of the room's relay), upMs (how long
// connected), sample (sampleConnection's), probed (probedCapacity's once
// settled, or null) }. directBitrate is the most a direct watcher is
// sent, and lastEach what one counted for at the last measurement (0 on
// going on air), in bits/s. It returns { known, each } with known false until a
// connection has settled, else { known, capacity, ceiling, each,
// carried, cpu, squeezed }: capacity what the uplink surely carries (the newest
// probe or the sum of the estimates, whichever is less), ceiling what it
// may carry (whichever is more), and each what a direct watcher counts
// for, in bits/s; carried how many direct watchers the sum of the
// estimates carries beside the relay's feed at congestedShare;
// cpu whether the CPU holds the video back; squeezed whether every direct
// watcher, held back for bandwidth, is sent under congestedShare of each.
export function measureUplink(conns, directBitrate, lastEach = 0) {
  const settled = conns.filter((c) => c.upMs >= settleMs && c.probed > 0);
  const direct = settled.filter((c) => !c.relay);
  const mean = direct.length ? direct.reduce((n, c) => n + c.sample.sent, 0) / direct.length : 0;
  const each = Math.max(floorBitrate, Math.min(directBitrate, Math.max(mean, lastEach)));
  if (!settled.length) return { known: false, each: lastEach };
  // The relay's feed comes when the direct watchers fill the uplink: its
  // probe, at the most congested time, counts only without them.
  const probers = direct.length ? direct : settled;
  const newest = probers.reduce((a, b) => (b.upMs < a.upMs ? b : a));
  // A connection still probing counts at what it sends.
  const estimates = conns.reduce((n, c) => n + (c.upMs >= settleMs && c.sample.avail > 0 ? c.sample.avail : c.sample.sent), 0);
  const capacity = Math.min(newest.probed, estimates);
  const ceiling = Math.max(newest.probed, estimates);
  const feed = conns.filter((c) => c.relay).reduce((n, c) => n + c.sample.sent, 0);
  const carried = Math.max(0, Math.floor((estimates - feed) / (each * congestedShare)));
  const cpu = settled.some((c) => c.sample.cpu >= cpuShare);
  const squeezed = direct.length > 1 && direct.every((c) => c.sample.bandwidth >= cpuShare && c.sample.sent < each * congestedShare);
  return { known: true, capacity, ceiling, each, carried, cpu, squeezed };
}

// feedLayers returns which of encodings (the relay's simulcast layers,
// lowest first, each with maxBitrate) the uplink has room for beside the
// direct watchers: budget bits/s, or null if unknown (all of them). The
// lowest layer is always sent; active says what is sent now, and a layer
// comes back only with a fifth more room than it needs, lest it flap.
export function feedLayers(encodings, active, budget) {
  if (budget === null) return encodings.map(() => true);
  let used = 0;
  return encodings.map((e, i) => {
    used += e.maxBitrate;
    return i === 0 || used * (active[i] ? 1 : 1.2) <= budget;
  });
}

// overCapacity reports whether uplink (measureUplink's) is congested by
// the direct watchers served now, more than one: the estimates, which sum
// to more than the uplink but when it is congested, carry fewer, or the
// direct watchers are all squeezed. A talker
// serves its first watcher itself whatever its uplink (the relay's feed
// would cost as much). A probe that found less is no proof: a connection
// that starts on a busy machine probes late.
export function overCapacity(uplink, direct) {
  return uplink.known && direct > 1 && (uplink.carried < direct || Boolean(uplink.squeezed));
}

// feedFloorBitrate is the least the relay's lowest layer is sent, in
// bits/s, however full the uplink.
export const feedFloorBitrate = 100_000;

// lowestLayerBitrate returns the maxBitrate for the relay's lowest layer,
// configured at most max bits/s: what budget leaves (null: unknown, max),
// and at least feedFloorBitrate.
export function lowestLayerBitrate(max, budget) {
  return budget === null ? max : Math.max(feedFloorBitrate, Math.min(max, Math.round(budget)));
}

// roomForOneMore reports whether uplink (measureUplink's) may carry one
// more direct watcher beside the direct ones served now: unknown, or not
// congested (and the CPU not full), under cap (the direct watchers a
// failed trial left); it may then be tried, and moved off in its trial if
// the uplink proves too small (overCapacity).
export function roomForOneMore(uplink, direct, cap = Infinity) {
  return direct < cap && (!uplink.known || (!uplink.cpu && !uplink.squeezed && uplink.carried >= direct));
}

// describe says what uplink means for the cap, for the talk page: the
// measured uplink (what may carry one more while there is room, what
// surely carries them once full), and whether one more direct watcher is
// tried, or why not. cap is the direct watchers a failed trial left.
export function describe(uplink, direct, maxWatchers, cap = Infinity) {
  if (!uplink.known) return `uplink: measuring; at most ${maxWatchers} direct watchers (the server's cap)`;
  const mbit = (b) => `${(b / 1e6).toFixed(1)} Mbit/s`;
  const room = roomForOneMore(uplink, direct, cap);
  const carries = `uplink ≈ ${mbit(room ? uplink.ceiling : uplink.capacity)}, ${mbit(uplink.each)} a watcher`;
  if (uplink.cpu) return `${carries}; CPU full: ${direct} direct, no more`;
  if (direct >= cap) return `${carries}: full at ${direct} direct`;
  if (!room) return `${carries}: congested at ${direct} direct`;
  if (direct >= maxWatchers) return `${carries}: ${maxWatchers} direct (the server's cap)`;
  return `${carries}: room to try one more direct`;
}
