// The talker: goes on air with camera and microphone (or a shared screen)
// and serves each watcher with its own RTCPeerConnection, up to the
// server's maxWatchers.
import { start, errorText, setState, connect, candidateMessage, addCandidate, flushCandidates, iceUfrag } from './common.js';

const $ = (id) => document.getElementById(id);
const state = $('state');
const video = $('local-video');
const onairBtn = $('onair');
const shareBtn = $('share-screen');
const stopBtn = $('stop');

const peers = new Map(); // watcher id -> {id, pc, pending, row, report, orphan, unanswered}
let config = { maxWatchers: 10, iceServers: [], iceTransportPolicy: 'all' }; // the server's /config, once loaded
let admitted = false; // the server took us as the room's talker
let camera = null; // MediaStream from getUserMedia
let screen = null; // MediaStream from getDisplayMedia while sharing
let onAir = false;
let send = () => {};
// Since when (ms) the room is refused to this page coming back, or 0. It
// tries for config.retakeMs, as long as the server holds the room for it
// (a dead node's sockets are freed within 1.2 × its liveness TTL, 6 s by
// default).
let retaking = 0;

function outgoingVideo() {
  return screen?.getVideoTracks()[0] || camera?.getVideoTracks()[0] || null;
}

function renderViewers() {
  $('viewer-count').textContent = String(peers.size);
  $('viewers').tBodies[0].replaceChildren(...[...peers.values()].map((p) => p.row));
}

// renderRow shows a watcher's connection state and its latest quality
// report (a `stats` message it sends every few seconds).
function renderRow(p) {
  const r = p.report || {};
  const num = (v, scale = 1, digits = 0) => (typeof v === 'number' ? (v * scale).toFixed(digits) : '');
  p.row.dataset.id = p.id;
  const connection = p.orphan ? `${p.pc.connectionState}, reconnecting` : p.pc.connectionState;
  const cells = [p.id.slice(0, 8), connection, num(r.bitrate, 1e-3), num(r.fps, 1, 1),
    num(r.packetsLost), num(r.jitter, 1e3, 1), num(r.freezes), num(r.rtt, 1e3, 1)];
  p.row.replaceChildren(...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
}

function showState() {
  if (onAir) setState(state, `on air: ${peers.size} watching`, 'live');
  else setState(state, camera ? 'off air' : 'off air: press On Air to start', '');
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
    }
  } catch (err) {
    onairBtn.disabled = false;
    setState(state, `error: camera and microphone unavailable (${err.name})`, 'error');
    return;
  }
  onAir = true;
  shareBtn.disabled = false;
  stopBtn.disabled = false;
  send({ type: 'talk_ready' });
  showState();
}

function closePeer(id) {
  const p = peers.get(id);
  if (!p) return;
  clearTimeout(p.orphan);
  clearTimeout(p.unanswered);
  peers.delete(id);
  p.pc.close();
  renderViewers();
  showState();
}

// orphan gives a watcher whose socket left, but whose media connection is
// up, config.resumeGraceMs to come back (see resume) before it is closed.
function orphan(p) {
  clearTimeout(p.orphan);
  p.orphan = setTimeout(() => { if (peers.get(p.id) === p) closePeer(p.id); }, config.resumeGraceMs);
  renderRow(p);
}

// watcherLeft: the server says a watcher's socket is gone. Its media may
// outlive it (its signaling node restarting): a connected one is orphaned.
function watcherLeft(id) {
  const p = peers.get(id);
  if (!p) return;
  if (p.pc.connectionState === 'connected') orphan(p);
  else closePeer(id);
}

// resume takes a watcher back, under the socket id it asks from now, on
// the media connection it still has: the one whose offer had its ufrag.
// The watcher is told with a talk_ready {resumed: true} of its own.
function resume(id, ufrag) {
  const p = [...peers.values()].find((q) => q.pc.connectionState === 'connected' && iceUfrag(q.pc.localDescription?.sdp) === ufrag);
  if (!p) return false;
  clearTimeout(p.orphan);
  p.orphan = null;
  if (p.id !== id) {
    if (peers.has(id)) closePeer(id);
    peers.delete(p.id);
    p.id = id;
    peers.set(id, p);
  }
  renderRow(p);
  renderViewers();
  showState();
  send({ type: 'talk_ready', resumed: true, sendto: id });
  return true;
}

function stopAir() {
  send({ type: 'end_talk' });
  onAir = false;
  for (const id of [...peers.keys()]) closePeer(id);
  stopScreen();
  camera?.getTracks().forEach((t) => t.stop());
  camera = null;
  video.srcObject = null;
  onairBtn.disabled = false;
  shareBtn.disabled = true;
  stopBtn.disabled = true;
  showState();
}

async function serveWatcher(id) {
  if (!onAir) return; // it will ask again when talk_ready arrives
  if (peers.has(id)) {
    const { pc } = peers.get(id);
    // Asked again while an offer is out: the offer may have been lost. The
    // same offer again, not a new one, so that an answer to either copy fits.
    if (pc.signalingState === 'have-local-offer') {
      if (pc.localDescription) send({ type: 'offer', sdp: pc.localDescription.sdp, sendto: id });
      return;
    }
    closePeer(id);
  }
  if (peers.size >= config.maxWatchers) {
    send({ type: 'talk_reject', reason: 'full', sendto: id });
    return;
  }
  const pc = new RTCPeerConnection({ iceServers: config.iceServers, iceTransportPolicy: config.iceTransportPolicy });
  const p = { id, pc, pending: [], row: document.createElement('tr'), report: null, orphan: null };
  peers.set(id, p);

  const label = () => renderRow(p);
  label();
  renderViewers();
  showState();

  const stream = new MediaStream();
  const audio = camera?.getAudioTracks()[0] || null;
  pc.addTransceiver(outgoingVideo() || 'video', { direction: 'sendonly', streams: [stream] });
  pc.addTransceiver(audio || 'audio', { direction: 'sendonly', streams: [stream] });
  pc.onicecandidate = (ev) => { if (ev.candidate) send(candidateMessage(ev.candidate, p.id)); };
  pc.onconnectionstatechange = () => {
    if (peers.get(p.id) !== p) return;
    label();
    const s = pc.connectionState;
    if (s === 'failed' || s === 'closed' || (s === 'disconnected' && p.orphan)) closePeer(p.id);
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: 'offer', sdp: pc.localDescription.sdp, sendto: id });
    // A watcher that asks and never answers would hold its place for good:
    // dropped after the server's offerTimeoutMs, and told so.
    p.unanswered = setTimeout(() => {
      if (peers.get(p.id) !== p || pc.signalingState !== 'have-local-offer') return;
      closePeer(p.id);
      send({ type: 'talk_reject', reason: 'timeout', sendto: p.id });
    }, config.offerTimeoutMs);
  } catch (err) {
    closePeer(id);
    setState(state, `error: offer to a watcher failed (${err.message})`, 'error');
  }
}

async function onMessage(msg) {
  const p = peers.get(msg.from);
  try {
    switch (msg.type) {
      case 'talk_request':
        // A watcher back under a new socket id asks with the ufrag of the
        // media session it still has; one this page does not know is served anew.
        if (typeof msg.resume === 'string' && resume(msg.from, msg.resume)) break;
        await serveWatcher(msg.from);
        break;
      case 'answer':
        // Only the first copy: a watcher repeats its answer until connected.
        if (p && p.pc.signalingState === 'have-local-offer') {
          clearTimeout(p.unanswered);
          await p.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
          await flushCandidates(p.pc, p.pending);
        }
        break;
      case 'candidate':
        if (p) await addCandidate(p.pc, p.pending, msg, config.maxPendingCandidates);
        break;
      case 'bye':
        closePeer(msg.from);
        break;
      case 'stats':
        if (p) {
          p.report = msg;
          renderRow(p);
        }
        break;
    }
  } catch (err) {
    console.warn('message', msg.type, 'from', msg.from, err);
  }
}

async function replaceVideo(track) {
  await Promise.all([...peers.values()].map(({ pc }) => {
    const sender = pc.getTransceivers().find((t) => t.receiver.track.kind === 'video')?.sender;
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

async function toggleScreen() {
  if (screen) {
    stopScreen();
    video.srcObject = camera;
    await replaceVideo(outgoingVideo());
    return;
  }
  // The picker stays open until the user chooses; a second click meanwhile
  // would open another one.
  shareBtn.disabled = true;
  let picked;
  try {
    picked = await navigator.mediaDevices.getDisplayMedia({ video: true });
  } catch (err) {
    setState(state, `error: screen sharing unavailable (${err.name})`, 'error');
    return;
  } finally {
    shareBtn.disabled = !onAir;
  }
  if (!onAir) { // went off air while the picker was open
    picked.getTracks().forEach((t) => t.stop());
    return;
  }
  screen = picked;
  const track = screen.getVideoTracks()[0];
  track.addEventListener('ended', () => { if (screen?.getVideoTracks()[0] === track) toggleScreen(); });
  shareBtn.setAttribute('aria-pressed', 'true');
  shareBtn.textContent = 'Stop sharing';
  video.srcObject = screen;
  await replaceVideo(track);
}

async function main() {
  const page = await start(state);
  if (!page) return;
  config = page.config;
  $('max-watchers').textContent = String(config.maxWatchers);
  // In an open room the server hands its talker a retake token: presented
  // on every later enter, it lets this browser alone take the room back
  // within config.retakeMs of losing it on air, from this page after a reconnect or
  // from a page reopened after a crash.
  const retakeKey = `broadcast.retake.${page.room}`;
  const enterArg = { room: page.room, role: 'talker', key: page.key, retake: localStorage.getItem(retakeKey) ?? undefined };
  const signaling = connect(enterArg, {
    entered: (ev) => {
      if (ev.retake) {
        enterArg.retake = ev.retake;
        localStorage.setItem(retakeKey, ev.retake);
      }
      admitted = true;
      retaking = 0;
      config.iceServers = ev.iceServers;
      onairBtn.disabled = onAir;
      if (onAir) {
        // Back after a reconnect, under a new socket id: the room has heard
        // the old one leave. Media connections still up wait for their
        // watchers to resume them after talk_ready; the rest ask anew.
        for (const id of [...peers.keys()]) watcherLeft(id);
        send({ type: 'talk_ready' });
      }
      showState();
    },
    disconnect: () => {
      admitted = false;
      setState(state, 'reconnecting to the server', 'error');
    },
    message: onMessage,
    userDisconnected: watcherLeft,
    error: (err) => {
      if (!admitted && onAir && err.code === 'room_taken' && performance.now() - (retaking ||= performance.now()) < config.retakeMs) {
        // Back after a reconnect while the server still holds this page's
        // old socket (its node died and is not yet found dead): try again.
        setState(state, 'reconnecting: waiting for the server to free the room', 'error');
        setTimeout(signaling.enter, 1000);
        return;
      }
      if (!admitted) onairBtn.disabled = true; // refused the room: nothing to do here
      setState(state, errorText(err), 'error');
    },
  });
  send = signaling.send;
  onairBtn.addEventListener('click', goOnAir);
  stopBtn.addEventListener('click', stopAir);
  shareBtn.addEventListener('click', toggleScreen);
  addEventListener('pagehide', () => { if (onAir) send({ type: 'end_talk' }); });
}

main();
