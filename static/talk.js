// The talker: goes on air with camera and microphone (or a shared screen)
// and serves each watcher with its own RTCPeerConnection, up to the
// server's maxWatchers; and the room's relay, if the server runs one for
// the room, beyond that: its one stream feeds the watchers past the cap.
import {
  start, connect, phases, pagePhases, phaseMachine, peerConnection, candidateMessage, addCandidate, flushCandidates, iceUfrag,
  types, rejects, codes, roles,
} from './common.js';
import { recorder } from './recorder.js';
import { sampleConnection, probedCapacity, measureUplink, feedLayers, lowestLayerBitrate, roomForOneMore, overCapacity, describe, settleMs, overSamples, trialMs } from './uplink.js';

const $ = (id) => document.getElementById(id);
const stateEl = $('state');
const video = $('local-video');
const onairBtn = $('onair');
const shareBtn = $('share-screen');
const presentBtn = $('present');
const slidesEl = $('local-slides');
const stopBtn = $('stop');
// refreshRecording asks whether the room records (recorder.js), when the
// server records rooms.
let refreshRecording = () => {};

// Phase is what the page is doing: besides common.js's entering, offline,
// refused and error (the camera, an offer or the screen failed), these.
const Phase = pagePhases(
  'offAir', // in the room, off air
  'onAir', // on air: serving watchers
  // Back on air after a reconnect, but refused the room: the server still
  // holds it for this page's old socket. The page tries again every second
  // for config.retakeMs since the first refusal (a dead node's sockets are
  // freed within 1.2 × its liveness TTL, 6 s by default). It interrupts
  // onAir, as offline does.
  'retaking',
);

// WatcherPhase is where this page is with one watcher: goWatcher() moves
// it, and the watcher's row shows it.
const WatcherPhase = phases(
  'offering', // making the offer
  'offered', // the offer is out: waits config.offerTimeoutMs for the answer
  'answered', // the answer is taken: the media connection comes up
  'connected', // the media connection is up
  'orphaned', // its socket left with the media up: waits config.resumeGraceMs for it to resume
  // One of the relay's watchers, known by the reports the relay passes on:
  // no media connection of this page's. Each report starts its wait anew;
  // none for relayedReports × config.reportMs and the row goes.
  'relayed',
);

// relayedReports is how many report intervals a relay watcher's row stays
// without a report.
const relayedReports = 3;

// The room's relay is one of the watchers here, marked relay: its talk_request
// came stamped relay: true by the server, and its stats say how many
// watchers it serves (relayWatchers).
const peers = new Map(); // watcher id -> {id, relay, pc, pending, row, report, relayWatchers, phase, timer, upAt, sample, probed}
// The relay's watchers, each a row but no peer of this page's: their
// reports come from the relay (stats stamped relay: true, with `watcher`),
// as does the word that one left (`left: true`).
const relayedPeers = new Map(); // watcher id -> {id, relayId, row, report, phase, timer}
let config = { maxWatchers: 10, iceServers: [], iceTransportPolicy: 'all' }; // the server's /config, once loaded
let camera = null; // MediaStream from getUserMedia
let screen = null; // MediaStream from getDisplayMedia while sharing
// Lecture mode: the screen presented as slides, a picture of its own beside
// the camera (MediaStream from getDisplayMedia while presenting). Every
// watcher's connection has a second video transceiver for it from the
// start, sending nothing until the talker presents: presenting, and
// stopping, is a replaceTrack, with no new offer.
let slides = null;
let onAirAt = 0; // performance.now() when the page went on air; 0 off air
// The queue: the watchers refused for the cap, in the order they asked,
// when the server runs no relay to serve them (config.relay 'off'). Each
// is told its place (talk_reject {reason: full, position}) and is offered
// the stream when a place frees.
const queue = [];

// onAirMs is how long the page has been on air, in ms, which each offer
// carries: the watchers show how long the broadcast has run.
const onAirMs = () => (onAirAt ? Math.round(performance.now() - onAirAt) : undefined);
let signaling = { send: () => {}, inRoom: () => false };
// The uplink as last measured (uplink.js): besides config.maxWatchers, the
// page serves no more watchers itself than it carries.
let uplink = { known: false, each: 0 };
// How many samples in a row the uplink has carried fewer than the direct
// watchers served.
let overFor = 0;
// The direct watchers a failed trial left: the room stays under that until
// off air. The estimates, uncongested again once the watcher left, would
// promise the place anew, and the next watcher (in the queue, the same
// one) would congest the others again.
let failedCap = Infinity;
// The newest direct watcher the congestion count (overFor) is of.
let overNewest = null;
// When (performance.now() ms) the last watcher was moved off the uplink:
// only one that came up since is tried, lest the relay's feed, starting,
// cost the others their places too.
let shedAt = 0;
// sampleMs is how often the page measures its uplink.
const sampleMs = 1000;

// direct returns how many watchers this page serves itself: all but the
// relay, whose one stream feeds the others. config.maxWatchers bounds them.
const direct = () => [...peers.values()].filter((p) => !p.relay).length;

// relayed returns how many watchers the room's relay serves, or null
// without a relay.
function relayed() {
  const relays = [...peers.values()].filter((p) => p.relay);
  return relays.length ? relays.reduce((n, p) => n + (p.relayWatchers ?? 0), 0) : null;
}

// view returns [text, kind] for the status line in phase s.
function view(s) {
  switch (s.phase) {
    case Phase.offAir: return [camera ? 'off air' : 'off air: press On Air to start', ''];
    case Phase.onAir: {
      const viaRelay = relayed();
      if (viaRelay === null) return [`on air: ${direct()} watching`, 'live'];
      return [`on air: ${direct()} direct, ${viaRelay} via relay`, 'live'];
    }
    case Phase.retaking: return ['reconnecting: waiting for the server to free the room', 'error'];
  }
  throw new Error(`no phase ${s.phase}`);
}

// The page's phase, drawn in the status line. Retaking again keeps the
// time of the first refusal.
const { go, base, current } = phaseMachine(stateEl, {
  view,
  interruptions: [Phase.retaking],
  carry: (phase, from, now) => (phase === Phase.retaking && now.phase === Phase.retaking ? { since: now.since } : {}),
});

const send = (msg) => signaling.send(msg);
const onAir = () => base().phase === Phase.onAir;

// showState shows the page's phase anew, for its watcher count. It ends an
// error or a refusal shown, not being out of the room (offline, retaking):
// that is shown until the page is back in.
function showState() {
  if (current().phase !== Phase.offline && current().phase !== Phase.retaking) go(base().phase);
}

function outgoingVideo() {
  return screen?.getVideoTracks()[0] || camera?.getVideoTracks()[0] || null;
}

function renderViewers() {
  $('viewer-count').textContent = String(direct());
  $('viewers').tBodies[0].replaceChildren(...[...peers.values(), ...relayedPeers.values()].map((p) => p.row));
}

// renderRow shows a watcher's phase (as data-phase), its connection state
// and its latest quality report (a `stats` message it sends every few
// seconds). The relay's row is marked data-relay and named so; a relay
// watcher's row is marked data-via="relay", its connection shown as via
// the relay.
function renderRow(p) {
  const r = p.report || {};
  const num = (v, scale = 1, digits = 0) => (typeof v === 'number' ? (v * scale).toFixed(digits) : '');
  p.row.dataset.id = p.id;
  p.row.dataset.phase = p.phase;
  p.row.toggleAttribute('data-relay', p.relay === true);
  if (p.phase === WatcherPhase.relayed) p.row.dataset.via = roles.relay;
  let connection;
  if (p.phase === WatcherPhase.relayed) connection = `via ${roles.relay}`;
  else if (p.phase === WatcherPhase.orphaned) connection = `${p.pc.connectionState}, reconnecting`;
  else connection = p.pc.connectionState;
  const cells = [p.relay ? roles.relay : p.id.slice(0, 8), connection, num(r.bitrate, 1e-3), num(r.fps, 1, 1),
    num(r.packetsLost), num(r.jitter, 1e3, 1), num(r.freezes), num(r.rtt, 1e3, 1)];
  p.row.replaceChildren(...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
}

// goWatcher moves watcher p to phase and shows it in its row. A phase that
// waits (offered, orphaned) starts its timer; any move stops the last one.
function goWatcher(p, phase) {
  clearTimeout(p.timer);
  p.phase = phase;
  p.timer = null;
  if (phase === WatcherPhase.offered) {
    // A watcher that asks and never answers would hold its place for good:
    // dropped after the server's offerTimeoutMs, and told so.
    p.timer = setTimeout(() => {
      if (peers.get(p.id) !== p) return;
      closePeer(p.id);
      send({ type: types.talkReject, reason: rejects.timeout, sendto: p.id });
    }, config.offerTimeoutMs);
  }
  if (phase === WatcherPhase.orphaned) {
    // Its media may outlive its socket (its signaling node restarting):
    // config.resumeGraceMs to come back (see resume) before it is closed.
    p.timer = setTimeout(() => { if (peers.get(p.id) === p) closePeer(p.id); }, config.resumeGraceMs);
  }
  if (phase === WatcherPhase.relayed) {
    // The relay passes a report on every config.reportMs; one that stops
    // (its word of the watcher leaving lost) leaves no row for good.
    p.timer = setTimeout(() => { if (relayedPeers.get(p.id) === p) dropRelayed(p.id); }, relayedReports * config.reportMs);
  }
  renderRow(p);
}

// relayedReport takes a stats message of the relay relayId about one of
// its watchers, msg.watcher: its report, or (left) that it left.
function relayedReport(relayId, msg) {
  const id = msg.watcher;
  if (msg.left === true) {
    dropRelayed(id);
    return;
  }
  let p = relayedPeers.get(id);
  if (!p) {
    p = { id, relayId, row: document.createElement('tr'), report: null, phase: null, timer: null };
    relayedPeers.set(id, p);
  }
  p.report = msg;
  goWatcher(p, WatcherPhase.relayed);
  renderViewers();
}

// dropRelayed removes the row of the relay's watcher id.
function dropRelayed(id) {
  const p = relayedPeers.get(id);
  if (!p) return;
  clearTimeout(p.timer);
  relayedPeers.delete(id);
  renderViewers();
}

async function startCamera() {
  const attempts = [{ video: true, audio: true }, { video: true }, { audio: true }];
  let lastErr;
  for (const constraints of attempts) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

async function goOnAir() {
  onairBtn.disabled = true;
  try {
    if (!camera) {
      camera = await startCamera();
      video.srcObject = camera;
      // A face: the encoder keeps the frame rate, and lowers the
      // resolution first, when short of bandwidth or CPU.
      const cam = camera.getVideoTracks()[0];
      if (cam) cam.contentHint = 'motion';
    }
  } catch (err) {
    onairBtn.disabled = false;
    go(Phase.error, { text: `camera and microphone unavailable (${err.name})` });
    return;
  }
  shareBtn.disabled = false;
  presentBtn.disabled = false;
  stopBtn.disabled = false;
  onAirAt = performance.now();
  send({ type: types.talkReady });
  go(Phase.onAir);
  refreshRecording();
}

function closePeer(id) {
  const p = peers.get(id);
  if (!p) return;
  clearTimeout(p.timer);
  peers.delete(id);
  p.pc.close();
  // The relay gone, so are the rows of its watchers.
  for (const q of [...relayedPeers.values()]) if (q.relayId === id) dropRelayed(q.id);
  renderViewers();
  showState();
  admitQueued();
}

// unqueue takes id out of the queue, and tells those after it their new
// places.
function unqueue(id) {
  const i = queue.indexOf(id);
  if (i < 0) return;
  queue.splice(i, 1);
  tellPlaces(i);
}

// tellPlaces tells those in the queue from index `from` on their places.
function tellPlaces(from = 0) {
  queue.slice(from).forEach((q, j) => send({ type: types.talkReject, reason: rejects.full, position: from + j + 1, sendto: q }));
}

// admitQueued offers the stream to the first in the queue while a place
// is free.
function admitQueued() {
  while (onAir() && queue.length && roomForDirect()) {
    const id = queue[0];
    unqueue(id);
    serveWatcher(id, false);
  }
}

// roomForDirect reports whether the page serves one more watcher itself:
// under the server's cap, and as far as its measured uplink and CPU carry.
function roomForDirect() {
  return direct() < config.maxWatchers && roomForOneMore(uplink, direct(), failedCap);
}

// measure samples each connection up now and measures the uplink from
// them (see uplink.js), shows it, fits the relay's feed to what it has
// left, and admits whom it makes room for.
async function measure() {
  const since = onAirAt;
  const up = [];
  await Promise.all([...peers.values()].map(async (p) => {
    // A connection not up is not sampled; one that comes back from a
    // moment's disconnection keeps its age and probe.
    if (p.pc.connectionState !== 'connected') return;
    const now = performance.now();
    if (!p.upAt) p.upAt = now;
    try {
      p.sample = sampleConnection(await p.pc.getStats(), p.sample, now);
      up.push(p);
    } catch {
      // closed meanwhile
    }
  }));
  // Off air, or on air anew, meanwhile: nothing measured holds.
  if (onAirAt !== since || !onAir()) return;
  const conns = up.filter((p) => peers.get(p.id) === p)
    .map((p) => ({ p, relay: p.relay, upMs: performance.now() - p.upAt, sample: p.sample, probed: p.probed }));
  const probing = conns.filter((c) => c.probed === null && c.upMs >= settleMs && c.sample.avail > 0);
  for (const c of probing) c.probed = c.p.probed = probedCapacity(c, conns);
  uplink = measureUplink(conns, config.directBitrate, uplink.each);
  // The uplink is congested by the watchers served: the estimate the
  // newest direct watcher was served on promised too much. Found
  // overSamples in a row in its trial, it moves it to the relay, or back
  // to the queue. Only the watchers whose media is up count, all settled:
  // one still connecting sends nothing yet.
  const directUp = conns.filter((c) => !c.relay);
  const newest = directUp.sort((a, b) => a.upMs - b.upMs)[0];
  if (newest?.p !== overNewest || !overCapacity(uplink, directUp.length)) overFor = 0;
  else if (directUp.length === direct() && conns.every((c) => c.upMs >= settleMs)) overFor++;
  overNewest = newest?.p ?? null;
  if (newest && newest.upMs <= trialMs && newest.p.upAt > shedAt && overFor >= overSamples) {
    overFor = 0;
    shed(newest.p);
  }
  // The relay's feed gets what the direct watchers leave of the uplink as
  // far as the estimates say (the browser fits its layers to its own
  // estimate, and without direct watchers, nothing else competes).
  const budget = uplink.known && direct() > 0 ? uplink.ceiling - direct() * uplink.each : null;
  await Promise.all(up.filter((p) => p.relay).map((p) => fitFeed(p, budget)));
  const el = $('uplink');
  el.textContent = describe(uplink, direct(), config.maxWatchers, failedCap);
  el.dataset.known = String(uplink.known);
  el.dataset.room = String(roomForDirect());
  el.dataset.settled = String(conns.filter((c) => !c.relay && c.probed !== null).length);
  // What each connection probed, and sends now, in kbit/s: the measurement's grounds.
  el.dataset.estimates = String(Math.round(conns.reduce((n, c) => n + c.sample.avail, 0) / 1e3));
  el.dataset.probes = conns.map((c) => `${c.relay ? 'relay' : c.p.id.slice(0, 4)}:${Math.round((c.probed ?? 0) / 1e3)}/${Math.round(c.sample.sent / 1e3)}`).join(' ');
  admitQueued();
}

// shed moves direct watcher p off this page's uplink: to the room's relay
// (its talk_reject {full} the server hands over to the relay, as for a
// watcher refused), or, without a relay, to the head of the queue.
function shed(p) {
  // The cap first: closing frees a place the queue's head would take.
  failedCap = direct() - 1;
  shedAt = performance.now();
  closePeer(p.id);
  if (config.relay !== 'off') {
    send({ type: types.talkReject, reason: rejects.full, sendto: p.id });
    return;
  }
  queue.unshift(p.id);
  tellPlaces();
}

// fitFeed sends the relay p only the simulcast layers the uplink has room
// for beside the direct watchers, budget bits/s (null: unknown, all), and
// the lowest at no more than that.
async function fitFeed(p, budget) {
  const sender = videoSenders(p.pc)[0];
  const params = sender?.getParameters();
  if (!params || params.encodings.length < 2) return;
  const max = Object.fromEntries((config.simulcast ?? []).map((e) => [e.rid, e.maxBitrate]));
  const layers = params.encodings.map((e) => ({ maxBitrate: max[e.rid] ?? e.maxBitrate }));
  const active = feedLayers(layers, params.encodings.map((e) => e.active), budget);
  const lowest = lowestLayerBitrate(layers[0].maxBitrate, budget);
  if (active.every((on, i) => on === params.encodings[i].active) && lowest === params.encodings[0].maxBitrate) return;
  params.encodings.forEach((e, i) => { e.active = active[i]; });
  params.encodings[0].maxBitrate = lowest;
  await sender.setParameters(params).catch((err) => console.warn('cannot fit the relay feed', err));
}

// watcherLeft: the server says a watcher's socket is gone. Its media may
// outlive it (its signaling node restarting): a connected one is orphaned.
function watcherLeft(id) {
  unqueue(id);
  const p = peers.get(id);
  if (!p) return;
  if (p.pc.connectionState === 'connected') goWatcher(p, WatcherPhase.orphaned);
  else closePeer(id);
}

// resume takes a watcher back, under the socket id it asks from now, on
// the media connection it still has: the one whose offer had its ufrag.
// The watcher is told with a talk_ready {resumed: true} of its own.
function resume(id, ufrag) {
  const p = [...peers.values()].find((q) => q.pc.connectionState === 'connected' && iceUfrag(q.pc.localDescription?.sdp) === ufrag);
  if (!p) return false;
  if (p.id !== id) {
    if (peers.has(id)) closePeer(id);
    peers.delete(p.id);
    p.id = id;
    peers.set(id, p);
  }
  goWatcher(p, WatcherPhase.connected);
  renderViewers();
  showState();
  send({ type: types.talkReady, resumed: true, sendto: id });
  return true;
}

function stopAir() {
  onAirAt = 0;
  uplink = { known: false, each: 0 };
  overFor = 0;
  failedCap = Infinity;
  overNewest = null;
  shedAt = 0;
  queue.length = 0;
  send({ type: types.endTalk });
  go(Phase.offAir);
  for (const id of [...peers.keys()]) closePeer(id);
  stopScreen();
  stopSlides();
  camera?.getTracks().forEach((t) => t.stop());
  camera = null;
  video.srcObject = null;
  onairBtn.disabled = false;
  shareBtn.disabled = true;
  presentBtn.disabled = true;
  stopBtn.disabled = true;
  showState();
  refreshRecording();
}

// simulcastEncodings returns the encodings to send the room's relay of track:
// the highest of config.simulcast that the browser encodes at its size.
// Chrome sends at most 3 layers from 960x540 up, 2 from 480x270 and 1
// below, dropping the highest it was given past that: a 640x480 camera
// given three would send only the quarter and half sizes. One layer (or
// no track) is no simulcast: the relay forwards it as it comes.
function simulcastEncodings(track) {
  const { width = 0, height = 0 } = track?.getSettings() ?? {};
  const pixels = width * height;
  const n = pixels >= 960 * 540 ? 3 : pixels >= 480 * 270 ? 2 : 1;
  return (config.simulcast ?? []).slice(-n).map((e) => ({ ...e }));
}

// capBitrate holds what pc's video sends to config.directBitrate. Set
// once the media is up: given with the transceiver, Chrome starts the
// encoder at a quarter of the camera's size and takes seconds to climb.
async function capBitrate(pc) {
  const sender = videoSenders(pc)[0];
  const params = sender?.getParameters();
  if (!params?.encodings?.length) return;
  params.encodings[0].maxBitrate = config.directBitrate;
  await sender.setParameters(params).catch((err) => console.warn('cannot cap the bitrate', err));
}

// serveWatcher serves a talk_request from id: the room's relay if relay,
// which is served even when this page has its maxWatchers.
async function serveWatcher(id, relay) {
  if (!onAir()) return; // it will ask again when talk_ready arrives
  if (peers.has(id)) {
    const { pc, phase } = peers.get(id);
    // Asked again while an offer is out: the offer may have been lost. The
    // same offer again, not a new one, so that an answer to either copy fits.
    if (phase === WatcherPhase.offered) {
      send({ type: types.offer, sdp: pc.localDescription.sdp, sendto: id, onAirMs: onAirMs() });
      return;
    }
    closePeer(id);
  }
  if (!relay && !roomForDirect()) {
    if (config.relay !== 'off') {
      send({ type: types.talkReject, reason: rejects.full, sendto: id }); // the server hands it to the relay
      return;
    }
    if (!queue.includes(id)) queue.push(id);
    send({ type: types.talkReject, reason: rejects.full, position: queue.indexOf(id) + 1, sendto: id });
    return;
  }
  unqueue(id);
  const pc = peerConnection(config);
  const p = { id, relay, pc, pending: [], row: document.createElement('tr'), report: null, relayWatchers: null, phase: null, timer: null, upAt: 0, sample: null, probed: null };
  peers.set(id, p);
  goWatcher(p, WatcherPhase.offering);
  renderViewers();
  showState();

  const stream = new MediaStream();
  const audio = camera?.getAudioTracks()[0] || null;
  // The room's relay gets the video as simulcast (config.simulcast: the
  // layers, lowest first, each a rid, a scale and a bitrate), and forwards
  // each of its watchers the layer its link carries; a direct watcher gets
  // one encoding, which the browser fits to that watcher's link itself.
  const videoInit = { direction: 'sendonly', streams: [stream] };
  const encodings = relay ? simulcastEncodings(outgoingVideo()) : [];
  if (encodings.length > 1) videoInit.sendEncodings = encodings;
  pc.addTransceiver(outgoingVideo() || 'video', videoInit);
  // Sound before pictures: the browser gives the audio the highest
  // priority on the wire and in its bandwidth share.
  pc.addTransceiver(audio || 'audio', { direction: 'sendonly', streams: [stream], sendEncodings: [{ priority: 'high', networkPriority: 'high' }] });
  // The slides' picture, after the audio: a watcher takes its first video
  // for the camera and its second for the slides.
  pc.addTransceiver(slides?.getVideoTracks()[0] || 'video', { direction: 'sendonly', streams: [stream] });
  pc.onicecandidate = (ev) => { if (ev.candidate) send(candidateMessage(ev.candidate, p.id)); };
  pc.onconnectionstatechange = () => {
    if (peers.get(p.id) !== p) return;
    const s = pc.connectionState;
    if (s === 'connected' && p.phase === WatcherPhase.answered) {
      goWatcher(p, WatcherPhase.connected);
      if (!relay) capBitrate(pc);
    }
    else renderRow(p);
    if (s === 'failed' || s === 'closed' || (s === 'disconnected' && p.phase === WatcherPhase.orphaned)) closePeer(p.id);
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: types.offer, sdp: pc.localDescription.sdp, sendto: id, onAirMs: onAirMs() });
    if (peers.get(p.id) === p) goWatcher(p, WatcherPhase.offered);
  } catch (err) {
    closePeer(id);
    go(Phase.error, { text: `offer to a watcher failed (${err.message})` });
  }
}

async function onMessage(msg) {
  const p = peers.get(msg.from);
  try {
    switch (msg.type) {
      case types.talkRequest:
        // A watcher back under a new socket id asks with the ufrag of the
        // media session it still has; one this page does not know is served anew.
        if (typeof msg.resume === 'string' && resume(msg.from, msg.resume)) break;
        await serveWatcher(msg.from, msg.relay === true);
        break;
      case types.answer:
        // Only the first copy: a watcher repeats its answer until connected.
        if (p?.phase === WatcherPhase.offered) {
          goWatcher(p, WatcherPhase.answered);
          await p.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
          await flushCandidates(p.pc, p.pending);
        }
        break;
      case types.candidate:
        if (p) await addCandidate(p.pc, p.pending, msg, config.maxPendingCandidates);
        break;
      case types.bye:
        unqueue(msg.from); // one waiting in line hung up
        closePeer(msg.from);
        break;
      case types.stats:
        // A report the relay passes on, of one of its watchers: the
        // server's relay stamp vouches for its `watcher`.
        if (p?.relay && msg.relay === true && typeof msg.watcher === 'string' && msg.watcher !== '') {
          relayedReport(p.id, msg);
          break;
        }
        if (p) {
          p.report = msg;
          renderRow(p);
          // The relay's count of its watchers, shown in the status line.
          if (p.relay && Number.isInteger(msg.relayWatchers) && msg.relayWatchers !== p.relayWatchers) {
            p.relayWatchers = msg.relayWatchers;
            showState();
          }
        }
        break;
    }
  } catch (err) {
    console.warn('cannot take a', msg.type, 'from', msg.from, err);
  }
}

async function replaceVideo(track) {
  await Promise.all([...peers.values()].map(({ pc }) => {
    const sender = videoSenders(pc)[0];
    return sender?.replaceTrack(track);
  }));
}

function stopScreen() {
  if (!screen) return;
  screen.getTracks().forEach((t) => t.stop());
  screen = null;
  shareBtn.setAttribute('aria-pressed', 'false');
  shareBtn.textContent = 'Share screen';
}

// pickScreen asks the user for a screen to share, with button (the one
// clicked) disabled while the picker is open (a second click would open
// another), and returns its MediaStream, or null if refused or off air
// meanwhile.
async function pickScreen(button) {
  button.disabled = true;
  let picked;
  try {
    picked = await navigator.mediaDevices.getDisplayMedia({ video: true });
  } catch (err) {
    go(Phase.error, { text: `screen sharing unavailable (${err.name})` });
    return null;
  } finally {
    button.disabled = !onAir();
  }
  if (!onAir()) { // went off air while the picker was open
    picked.getTracks().forEach((t) => t.stop());
    return null;
  }
  return picked;
}

async function toggleScreen() {
  if (screen) {
    stopScreen();
    video.srcObject = camera;
    await replaceVideo(outgoingVideo());
    return;
  }
  const picked = await pickScreen(shareBtn);
  if (!picked) return;
  screen = picked;
  const track = screen.getVideoTracks()[0];
  track.addEventListener('ended', () => { if (screen?.getVideoTracks()[0] === track) toggleScreen(); });
  shareBtn.setAttribute('aria-pressed', 'true');
  shareBtn.textContent = 'Stop sharing';
  video.srcObject = screen;
  await replaceVideo(track);
}

// videoSenders returns pc's video senders in order: the camera's (or the
// shared screen's), then the slides'.
const videoSenders = (pc) => pc.getTransceivers().filter((t) => t.receiver.track.kind === 'video').map((t) => t.sender);

function stopSlides() {
  if (!slides) return;
  slides.getTracks().forEach((t) => t.stop());
  slides = null;
  slidesEl.srcObject = null;
  slidesEl.hidden = true;
  presentBtn.setAttribute('aria-pressed', 'false');
  presentBtn.textContent = 'Present slides';
  for (const { pc } of peers.values()) videoSenders(pc)[1]?.replaceTrack(null).catch(() => {});
}

// togglePresent presents the screen as slides beside the camera, or stops.
async function togglePresent() {
  if (slides) {
    stopSlides();
    return;
  }
  const picked = await pickScreen(presentBtn);
  if (!picked) return;
  slides = picked;
  const track = slides.getVideoTracks()[0];
  // Text: the encoder keeps the resolution, and lowers the frame rate
  // first, when short of bandwidth or CPU.
  track.contentHint = 'detail';
  track.addEventListener('ended', () => { if (slides?.getVideoTracks()[0] === track) stopSlides(); });
  presentBtn.setAttribute('aria-pressed', 'true');
  presentBtn.textContent = 'Stop presenting';
  slidesEl.srcObject = slides;
  slidesEl.hidden = false;
  await Promise.all([...peers.values()].map(({ pc }) => videoSenders(pc)[1]?.replaceTrack(track)));
}

async function main() {
  const page = await start(stateEl);
  if (!page) return;
  config = page.config;
  $('max-watchers').textContent = String(config.maxWatchers);
  // In an open room the server hands its talker a retake token: presented
  // on every later enter, it lets this browser alone take the room back
  // within config.retakeMs of losing it on air, from this page after a reconnect or
  // from a page reopened after a crash.
  const retakeKey = `broadcast.retake.${page.room}`;
  const enterArg = { room: page.room, role: roles.talker, key: page.key, retake: localStorage.getItem(retakeKey) ?? undefined };
  signaling = connect(enterArg, {
    entered: (ev) => {
      if (ev.retake) {
        enterArg.retake = ev.retake;
        localStorage.setItem(retakeKey, ev.retake);
      }
      config.iceServers = ev.iceServers;
      onairBtn.disabled = onAir();
      if (onAir()) {
        // Back after a reconnect, under a new socket id: the room has heard
        // the old one leave. Media connections still up wait for their
        // watchers to resume them after talk_ready; the rest ask anew.
        for (const id of [...peers.keys()]) watcherLeft(id);
        send({ type: types.talkReady });
      }
      go(onAir() ? Phase.onAir : Phase.offAir);
    },
    disconnect: () => go(Phase.offline),
    message: onMessage,
    userDisconnected: watcherLeft,
    error: (err) => {
      const since = current().phase === Phase.retaking ? current().since : performance.now();
      if (!signaling.inRoom() && onAir() && err.code === codes.roomTaken && performance.now() - since < config.retakeMs) {
        // Back after a reconnect while the server still holds this page's
        // old socket (its node died and is not yet found dead): try again.
        go(Phase.retaking);
        setTimeout(signaling.enter, 1000);
        return;
      }
      if (!signaling.inRoom()) onairBtn.disabled = true; // refused the room: nothing to do here
      go(Phase.refused, { err });
    },
  });
  // The server records rooms (-record-dir): Record shows, on air.
  if (config.recording) refreshRecording = recorder($('record'), $('recording'), page.room, page.key, onAir);
  onairBtn.addEventListener('click', goOnAir);
  stopBtn.addEventListener('click', stopAir);
  shareBtn.addEventListener('click', toggleScreen);
  presentBtn.addEventListener('click', togglePresent);
  addEventListener('pagehide', () => { if (onAir()) send({ type: types.endTalk }); });
  // One measurement at a time: getStats on many connections may take longer than sampleMs.
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    if (onAir()) await measure().catch((err) => console.warn('cannot measure the uplink', err));
  }
}

main();
