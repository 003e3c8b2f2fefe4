// The watcher: asks the room's talker for the stream and plays it.
import { start, errorText, setState, connect, candidateMessage, addCandidate, flushCandidates, iceUfrag } from './common.js';

const $ = (id) => document.getElementById(id);
const state = $('state');
const video = $('remote-video');
const requestBtn = $('request');
const hangupBtn = $('hangup');
const unmuteBtn = $('unmute');

let config = { iceServers: [], iceTransportPolicy: 'all' }; // the server's /config, once loaded
let send = () => {};
let talker = null; // the talker's socket id, once known
let watching = false; // the user pressed Request and has not hung up
let session = null; // {pc, pending, ufrag} for the current offer
let online = false; // entered, and not disconnected since
let askedAt = 0; // when the last talk_request or answer went out (ms)
let resuming = 0; // when this page began asking to resume its media session (ms), or 0
let talkerGone = null; // timer: the talker's socket left while the media is up

const mediaUp = () => session?.pc.connectionState === 'connected';

function closeSession() {
  resuming = 0;
  clearTimeout(talkerGone);
  talkerGone = null;
  clearInterval(session?.reporter);
  session?.pc.close();
  session = null;
  video.srcObject = null;
}

// report sends the talker a quality report from the receiver's statistics:
// bitrate (bits/s), fps, packets lost and freezes since the last report,
// jitter and round-trip time (seconds).
async function report(s, last) {
  const stats = await s.pc.getStats();
  let video;
  let rtt;
  stats.forEach((x) => {
    if (x.type === 'inbound-rtp' && x.kind === 'video') video = x;
    if (x.type === 'candidate-pair' && x.nominated && x.state === 'succeeded') rtt = x.currentRoundTripTime;
  });
  // Not while the talker is away: its socket id may be gone.
  if (!video || session !== s || resuming || talkerGone) return;
  const now = performance.now();
  const msg = { type: 'stats', sendto: talker, fps: video.framesPerSecond ?? 0, jitter: video.jitter, rtt };
  if (last.at) {
    msg.bitrate = ((video.bytesReceived - last.bytes) * 8 * 1000) / (now - last.at);
    msg.packetsLost = Math.max(0, video.packetsLost - last.lost);
    msg.freezes = Math.max(0, (video.freezeCount ?? 0) - last.freezes);
    send(msg);
  }
  Object.assign(last, { at: now, bytes: video.bytesReceived, lost: video.packetsLost, freezes: video.freezeCount ?? 0 });
}

function request() {
  watching = true;
  requestBtn.disabled = true;
  hangupBtn.disabled = false;
  // To the talker once known; before that the room hears it and the
  // talker, if there is one, answers with an offer.
  send(talker ? { type: 'talk_request', sendto: talker } : { type: 'talk_request' });
  askedAt = performance.now();
  setState(state, talker ? 'connecting' : 'waiting for the broadcaster', '');
}

// nudge asks again when the talker seems not to have heard: messages
// between nodes are lost while Redis is away. While no offer has come, a
// talk_request; while the media connection is still to come up, the same
// answer. The talker takes a repeat as the same request.
function nudge() {
  if (!watching || !online) return;
  if (resuming && performance.now() - resuming > config.resumeGraceMs) {
    // The talker did not take the session back: ask for a new one.
    closeSession();
    talker = null;
    request();
    return;
  }
  if (performance.now() - askedAt < config.retryMs) return;
  if (resuming) {
    askResume();
    return;
  }
  askedAt = performance.now();
  if (!session) {
    send({ type: 'talk_request' }); // the room's talker alone hears it, if there is one
    return;
  }
  const { pc } = session;
  if ((pc.connectionState === 'new' || pc.connectionState === 'connecting') && pc.localDescription?.type === 'answer') {
    sendAnswer(pc);
  }
}

function sendAnswer(pc) {
  send({ type: 'answer', sdp: pc.localDescription.sdp, sendto: talker });
  askedAt = performance.now();
}

// askResume asks the room's talker to take back the media session this
// page still has, by the ufrag of its offer, after either end's socket
// came back under a new id. The talker that made it answers with a
// talk_ready {resumed: true}; another answers with a new offer.
function askResume() {
  if (!resuming) resuming = performance.now();
  askedAt = performance.now();
  send({ type: 'talk_request', resume: session.ufrag });
}

function resumed(msg) {
  resuming = 0;
  clearTimeout(talkerGone);
  talkerGone = null;
  talker = msg.from;
  setState(state, 'live', 'live');
}

function hangup() {
  if (talker) send({ type: 'bye', sendto: talker });
  watching = false;
  closeSession();
  requestBtn.disabled = false;
  hangupBtn.disabled = true;
  setState(state, 'stopped: press Request to watch', '');
}

function talkerLeft() {
  closeSession();
  talker = null;
  setState(state, 'broadcaster left', 'left');
}

async function onOffer(msg) {
  const ufrag = iceUfrag(msg.sdp);
  if (session && msg.from === talker && ufrag && session.ufrag === ufrag) {
    // The same offer again: the talker did not hear the answer (or it is
    // still being made, and goes out by itself).
    if (session.pc.localDescription) sendAnswer(session.pc);
    return;
  }
  closeSession();
  talker = msg.from;
  const pc = new RTCPeerConnection({ iceServers: config.iceServers, iceTransportPolicy: config.iceTransportPolicy });
  const s = { pc, pending: [], ufrag };
  session = s;
  setState(state, 'connecting', '');
  pc.ontrack = (ev) => {
    const stream = ev.streams[0] || (video.srcObject instanceof MediaStream ? video.srcObject : new MediaStream());
    if (!ev.streams[0]) stream.addTrack(ev.track);
    if (video.srcObject !== stream) video.srcObject = stream;
  };
  pc.onicecandidate = (ev) => { if (ev.candidate && session === s) send(candidateMessage(ev.candidate, msg.from)); };
  pc.ondatachannel = (ev) => {
    // The talker's data channel: text it sends is shown under the video.
    ev.channel.onmessage = (m) => {
      if (typeof m.data !== 'string') return;
      const box = $('data');
      box.hidden = false;
      box.textContent = (box.textContent + m.data + '\n').split('\n').slice(-20).join('\n');
    };
  };
  const last = {};
  s.reporter = setInterval(() => report(s, last).catch(() => {}), config.reportMs);
  pc.onconnectionstatechange = () => {
    if (session !== s) return;
    if (talkerGone && pc.connectionState !== 'connected') {
      talkerLeft(); // the media went with the talker's socket
      return;
    }
    if (pc.connectionState === 'connected') setState(state, 'live', 'live');
    if (pc.connectionState === 'failed') setState(state, 'error: the media connection failed', 'error');
  };
  await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  sendAnswer(pc); // talker is msg.from by now
  await flushCandidates(pc, s.pending);
}

async function onMessage(msg) {
  try {
    switch (msg.type) {
      case 'talk_ready':
        if (msg.resumed) {
          if (resuming) resumed(msg);
          break;
        }
        if (watching && mediaUp()) {
          // The talker is back under a new socket id: take the session back.
          if (talkerGone || msg.from !== talker) askResume();
          break;
        }
        talker = msg.from;
        if (watching) request(); // back on air: ask again by ourselves
        else setState(state, 'broadcaster on air: press Request to watch', '');
        break;
      case 'offer':
        if (watching) await onOffer(msg);
        break;
      case 'candidate':
        if (session && msg.from === talker) await addCandidate(session.pc, session.pending, msg, config.maxPendingCandidates);
        break;
      case 'talk_reject':
        closeSession();
        watching = false;
        requestBtn.disabled = false;
        hangupBtn.disabled = true;
        setState(state, { full: 'room full', timeout: 'no answer in time: press Request to try again' }[msg.reason] || `refused: ${msg.reason}`, 'full');
        break;
      case 'end_talk':
        if (msg.from === talker) talkerLeft();
        break;
    }
  } catch (err) {
    setState(state, `error: ${err.message}`, 'error');
  }
}

async function main() {
  const page = await start(state);
  if (!page) return;
  config = page.config;
  ({ send } = connect({ room: page.room, role: 'watcher', key: page.key }, {
    entered: (ev) => {
      online = true;
      config.iceServers = ev.iceServers;
      requestBtn.disabled = watching;
      if (watching && mediaUp()) {
        // Back after a reconnect, under a new socket id, with the media
        // still up: ask the room's talker to take the session back.
        askResume();
      } else if (watching) {
        // Nothing to keep: start over with the room's talker, whoever it is now.
        closeSession();
        talker = null;
        request();
      } else {
        setState(state, 'waiting for the broadcaster: press Request to watch', '');
      }
    },
    disconnect: () => {
      online = false;
      setState(state, 'reconnecting to the server', 'error');
    },
    message: onMessage,
    userDisconnected: (id) => {
      if (id !== talker) return;
      if (!watching || !mediaUp()) {
        talkerLeft();
        return;
      }
      // The media is still up: the talker's signaling node may be
      // restarting. Wait for it to come back and resume (or for the media
      // to drop) before calling it gone.
      clearTimeout(talkerGone);
      talkerGone = setTimeout(talkerLeft, config.resumeGraceMs);
      setState(state, 'live: the broadcaster is reconnecting', 'live');
    },
    error: (err) => setState(state, errorText(err), 'error'),
  }));
  requestBtn.addEventListener('click', request);
  hangupBtn.addEventListener('click', hangup);
  setInterval(nudge, 1000);
  unmuteBtn.addEventListener('click', () => {
    video.muted = !video.muted;
    unmuteBtn.setAttribute('aria-pressed', String(!video.muted));
    unmuteBtn.textContent = video.muted ? 'Unmute' : 'Mute';
    if (!video.muted) video.play().catch(() => {});
  });
  video.addEventListener('playing', () => { if (session) setState(state, 'live', 'live'); });
  addEventListener('pagehide', () => { if (watching && talker) send({ type: 'bye', sendto: talker }); });
}

main();
