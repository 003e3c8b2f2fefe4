// The watcher: asks the room's talker for the stream and plays it. The
// stream may come from the room's relay instead, the server's own peer that
// serves watchers in the talker's place: its offer comes stamped relay: true.
import {
  start, connect, pagePhases, phaseMachine, peerConnection, candidateMessage, addCandidate, flushCandidates, iceUfrag,
  types, rejects, roles,
} from './common.js';
import { player } from './player.js';
import { pictures } from './pictures.js';

const $ = (id) => document.getElementById(id);
const stateEl = $('state');
const video = $('remote-video');
const requestBtn = $('request');
const pics = pictures(video, $('corner-video'), $('swap'));
const hangupBtn = $('hangup');
// A quality chosen on the player pins the relay's layer (through the relay
// only: a talker's own stream has one).
const { showQuality, showLayer, showOnAir } = player(video, {
  onPin: (pin) => { if (session?.relay) send({ type: types.layer, pin, sendto: session.peer }); },
});

// Phase is what the page is doing: besides common.js's entering, offline,
// refused and error (the media connection failed, or a message could not
// be taken), these. docs/protocol.md draws them and their moves.
const Phase = pagePhases(
  'idle', // in the room, not watching: Request not pressed, hung up, or the talker left
  'waiting', // asked the room for the stream; no talker known
  'connecting', // asked the known talker, or answering its offer; the media is not up
  'live', // the media is up (via the relay: its detail relay)
  'away', // live, but the talker's socket left: waits resumeGraceMs for it to come back
  'resuming', // asked the talker to take the media session back, under new socket ids
  'ended', // the talker left while watching: asks again when it is back on air
  'rejected', // refused by the talker (talk_reject): full, or no answer in time
  'queued', // refused for now: the talker's queue holds its place (its detail position), and offers when one frees
);
// The phases in which the user is watching: pressed Request, and neither
// hung up nor was refused by the talker.
const watchingPhases = new Set([Phase.waiting, Phase.connecting, Phase.live, Phase.away, Phase.resuming, Phase.ended, Phase.queued]);

let config = { iceServers: [], iceTransportPolicy: 'all' }; // the server's /config, once loaded
let signaling = { send: () => {}, inRoom: () => false };
let talker = null; // the talker's socket id, once known
// {pc, pending, ufrag, reporter, peer, relay} for the current offer: peer is
// the socket id of its sender, the talker's or, if relay, the room's relay's.
// Answer, candidates, stats and bye go to peer.
let session = null;
let askedAt = 0; // when the last talk_request or answer went out (ms), for nudge

// ordinal spells n as a place in line: 1st, 2nd, 3rd, 4th, 11th, 21st.
function ordinal(n) {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${(!teen && ['th', 'st', 'nd', 'rd'][n % 10]) || 'th'}`;
}

// view returns [text, kind] for the status line in phase s.
function view(s) {
  switch (s.phase) {
    case Phase.idle: return {
      inRoom: ['waiting for the broadcaster: press Request to watch', ''],
      onAir: ['broadcaster on air: press Request to watch', ''],
      stopped: ['stopped: press Request to watch', ''],
      left: ['broadcaster left', 'left'],
    }[s.why];
    case Phase.waiting: return ['waiting for the broadcaster', ''];
    case Phase.connecting: return ['connecting', ''];
    case Phase.live: return [s.relay ? 'live via relay' : 'live', 'live'];
    case Phase.away: return ['live: the broadcaster is reconnecting', 'live'];
    // What the page showed when it began to ask: the media plays meanwhile.
    case Phase.resuming: return s.shown;
    case Phase.ended: return [s.relayLeft ? 'the relay left: asking again' : 'broadcaster left', 'left'];
    case Phase.queued: return [`room full: you are ${ordinal(s.position)} in line`, 'full'];
    case Phase.rejected: return [{
      [rejects.full]: 'room full',
      [rejects.timeout]: 'no answer in time: press Request to try again',
      [rejects.dropped]: 'the relay lost the session: press Request to try again',
    }[s.reason] || `refused: ${s.reason}`, 'full'];
  }
  throw new Error(`no phase ${s.phase}`);
}

// carry: resuming goes on from resuming (since the same ask) and from away
// (whose timer still runs: the talker is let go at its end, resumed or
// not), showing what the page showed when it began to ask.
function carry(phase, from, current) {
  if (phase !== Phase.resuming) return {};
  const shown = machine.view(current);
  if (from.phase === Phase.resuming) return { shown, since: from.since, talkerAway: from.talkerAway, timer: from.timer };
  if (from.phase === Phase.away) return { shown, talkerAway: true, timer: from.timer };
  return { shown };
}

// The page's phase: what each keeps is timer (away: the talker is let go at
// its end), talkerAway and shown (resuming), why (idle), reason (rejected),
// relay (live: via the relay) and relayLeft (ended: the relay left).
// The status line and the buttons are drawn from it alone.
const machine = phaseMachine(stateEl, {
  view,
  carry,
  render: () => {
    requestBtn.disabled = watching() || base().phase === Phase.entering;
    hangupBtn.disabled = !watching();
  },
});
const { go, base } = machine;

const send = (msg) => signaling.send(msg);
const mediaUp = () => session?.pc.connectionState === 'connected';
const watching = () => watchingPhases.has(base().phase);

function closeSession() {
  showLayer(null);
  clearInterval(session?.reporter);
  session?.pc.close();
  session = null;
  pics.stop();
  showQuality(null);
  showOnAir(null);
}

// report sends the talker a quality report from the receiver's statistics:
// bitrate (bits/s), fps, packets lost and freezes since the last report,
// jitter and round-trip time (seconds).
async function report(s, last) {
  const stats = await s.pc.getStats();
  let video;
  let shown;
  let rtt;
  const [large, camera] = [pics.mainTrack(), pics.cameraTrack()];
  stats.forEach((x) => {
    if (x.type === 'inbound-rtp' && x.kind === 'video') {
      if (x.trackIdentifier === camera?.id) video = x; // the camera's, in the report to the talker
      if (x.trackIdentifier === large?.id) shown = x;
    }
    if (x.type === 'candidate-pair' && x.nominated && x.state === 'succeeded') rtt = x.currentRoundTripTime;
  });
  // Not while the talker is away: its socket id may be gone.
  const { phase } = base();
  if (!video || session !== s || phase === Phase.resuming || phase === Phase.away) return;
  const now = performance.now();
  const msg = { type: types.stats, sendto: s.peer, fps: video.framesPerSecond ?? 0, jitter: video.jitter, rtt };
  if (last.at) {
    msg.bitrate = ((video.bytesReceived - last.bytes) * 8 * 1000) / (now - last.at);
    msg.packetsLost = Math.max(0, video.packetsLost - last.lost);
    msg.freezes = Math.max(0, (video.freezeCount ?? 0) - last.freezes);
    send(msg);
  }
  // The quality shown is that of the picture playing large.
  shown ??= video;
  showQuality({ width: shown.frameWidth, height: shown.frameHeight, fps: shown.framesPerSecond ?? 0, bitrate: shown === video ? msg.bitrate : undefined });
  Object.assign(last, { at: now, bytes: video.bytesReceived, lost: video.packetsLost, freezes: video.freezeCount ?? 0 });
}

function request() {
  // To the talker once known; before that the room hears it and the
  // talker, if there is one, answers with an offer.
  send(talker ? { type: types.talkRequest, sendto: talker } : { type: types.talkRequest });
  askedAt = performance.now();
  go(talker ? Phase.connecting : Phase.waiting);
}

// nudge asks again when the talker seems not to have heard: messages
// between nodes are lost while Redis is away. While no offer has come, a
// talk_request; while the media connection is still to come up, the same
// answer. The talker takes a repeat as the same request.
function nudge() {
  if (!watching() || !signaling.inRoom()) return;
  const { phase, since } = base();
  if (phase === Phase.resuming && performance.now() - since > config.resumeGraceMs) {
    // The talker did not take the session back: ask for a new one.
    closeSession();
    talker = null;
    request();
    return;
  }
  if (performance.now() - askedAt < config.retryMs) return;
  if (phase === Phase.resuming) {
    askResume();
    return;
  }
  askedAt = performance.now();
  if (!session) {
    send({ type: types.talkRequest }); // the room's talker alone hears it, if there is one
    return;
  }
  const { pc } = session;
  if ((pc.connectionState === 'new' || pc.connectionState === 'connecting') && pc.localDescription?.type === 'answer') {
    sendAnswer(pc);
  }
}

function sendAnswer(pc) {
  send({ type: types.answer, sdp: pc.localDescription.sdp, sendto: session.peer });
  askedAt = performance.now();
}

// askResume asks the room's talker (the relay, for a session with the
// relay) to take back the media session this page still has, by the ufrag
// of its offer, after either end's socket came back under a new id. The
// one that made it answers with a talk_ready {resumed: true}; another
// answers with a new offer.
function askResume() {
  go(Phase.resuming);
  askedAt = performance.now();
  send({ type: types.talkRequest, resume: session.ufrag, sendto: session.relay ? session.peer : undefined });
}

// bye tells the media session's peer (or, before an offer, the talker
// asked) that this page stopped watching.
function bye() {
  const to = session?.peer ?? talker;
  if (to) send({ type: types.bye, sendto: to });
}

function hangup() {
  bye();
  closeSession();
  go(Phase.idle, { why: 'stopped' });
}

function talkerLeft() {
  closeSession();
  talker = null;
  if (watching()) go(Phase.ended);
  else go(Phase.idle, { why: 'left' });
}

// relayLeft: the room's relay, which served this page, left; its media went
// with it. The session ends as when the talker leaves, and the page asks
// again (see nudge) while the talker is still on air.
function relayLeft() {
  closeSession();
  go(Phase.ended, { relayLeft: true });
}

// talkerAway: the talker's socket left while the media is up. Its
// signaling node may be restarting: wait for it to come back and resume
// (or for the media to drop) before calling it gone.
function talkerAway() {
  const timer = setTimeout(talkerLeft, config.resumeGraceMs);
  if (base().phase === Phase.resuming) go(Phase.resuming, { talkerAway: true, timer, shown: view({ phase: Phase.away }) });
  else go(Phase.away, { timer });
}

// onMediaUp: the media connection is up, or the video plays. It moves a
// page that was connecting, or is live under an interruption, to live.
function onMediaUp() {
  const { phase } = base();
  if (session && (phase === Phase.connecting || phase === Phase.live)) goLive();
}

// goLive moves to live, via the relay if the session is the relay's.
const goLive = () => {
  go(Phase.live, { relay: session?.relay === true });
  showOnAir(session?.onAirSince ?? null);
};

async function onOffer(msg) {
  const ufrag = iceUfrag(msg.sdp);
  if (session && msg.from === session.peer && ufrag && session.ufrag === ufrag) {
    // The same offer again: the talker did not hear the answer (or it is
    // still being made, and goes out by itself).
    if (session.pc.localDescription) sendAnswer(session.pc);
    return;
  }
  closeSession();
  // The relay's offer (stamped by the server) is taken as the talker's, but
  // the talker stays who it is: its end_talk still ends the session.
  const relay = msg.relay === true;
  if (!relay) talker = msg.from;
  const pc = peerConnection(config);
  const s = { pc, pending: [], ufrag, peer: msg.from, relay };
  session = s;
  go(Phase.connecting);
  pics.start(pc);
  // How long the broadcast has run, from the offer: shown once live.
  s.onAirSince = Number.isFinite(msg.onAirMs) && msg.onAirMs > 0 ? performance.now() - msg.onAirMs : null;
  pc.ontrack = (ev) => { if (session === s) pics.track(ev); };
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
    if (base().talkerAway || base().phase === Phase.away) {
      if (pc.connectionState !== 'connected') talkerLeft(); // the media went with the talker's socket
      return;
    }
    if (pc.connectionState === 'connected') onMediaUp();
    if (pc.connectionState === 'failed') go(Phase.error, { text: 'the media connection failed' });
  };
  await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  sendAnswer(pc); // to session.peer, msg.from
  await flushCandidates(pc, s.pending);
}

async function onMessage(msg) {
  try {
    switch (msg.type) {
      case types.talkReady:
        if (msg.resumed) {
          if (base().phase === Phase.resuming && session) {
            session.peer = msg.from;
            if (!session.relay) talker = msg.from;
            goLive();
          }
          break;
        }
        if (msg.relay) break; // only the talker invites the room
        if (watching() && session?.relay) {
          // Through the relay, the talker's socket is the relay's business.
          talker = msg.from;
          break;
        }
        if (watching() && mediaUp()) {
          // The talker is back under a new socket id: take the session back.
          if (base().phase === Phase.away || base().talkerAway || msg.from !== talker) askResume();
          break;
        }
        talker = msg.from;
        if (watching()) request(); // back on air: ask again by ourselves
        else go(Phase.idle, { why: 'onAir' });
        break;
      case types.offer:
        if (watching()) await onOffer(msg);
        break;
      case types.candidate:
        if (session && msg.from === session.peer) await addCandidate(session.pc, session.pending, msg, config.maxPendingCandidates);
        break;
      case types.layer:
        // The relay's word on this page's layer: what the quality choice
        // shows, and whether the video is paused.
        if (session?.relay && msg.from === session.peer) showLayer(msg);
        break;
      case types.talkReject:
        closeSession();
        if (msg.reason === rejects.full && Number.isInteger(msg.position) && msg.position > 0 && watching()) {
          // In the talker's queue: it offers when a place frees; asking
          // again (nudge) keeps the place.
          talker = msg.from;
          go(Phase.queued, { position: msg.position });
          break;
        }
        go(Phase.rejected, { reason: msg.reason });
        break;
      case types.endTalk:
        // Only the room's talker may send it (the server refuses it from
        // anyone else): through the relay, whoever sent it is the talker
        // whose stream the relay feeds; a page that never had the talker's
        // offer (it watched through the relay, then hung up) knows no
        // talker, and hears its leaving all the same.
        if (msg.from === talker || talker === null || session?.relay) talkerLeft();
        break;
    }
  } catch (err) {
    go(Phase.error, { text: err.message });
  }
}

async function main() {
  const page = await start(stateEl);
  if (!page) return;
  config = page.config;
  signaling = connect({ room: page.room, role: roles.watcher, key: page.key }, {
    entered: (ev) => {
      config.iceServers = ev.iceServers;
      if (watching() && mediaUp()) {
        // Back after a reconnect, under a new socket id, with the media
        // still up: ask the room's talker to take the session back.
        askResume();
      } else if (watching()) {
        // Nothing to keep: start over with the room's talker, whoever it is now.
        closeSession();
        talker = null;
        request();
      } else {
        go(Phase.idle, { why: 'inRoom' });
      }
    },
    disconnect: () => go(Phase.offline),
    message: onMessage,
    userDisconnected: (id) => {
      if (session?.relay) {
        // Through the relay, only the relay leaving ends the session.
        if (id === session.peer) relayLeft();
        return;
      }
      if (id !== talker) return;
      if (!watching() || !mediaUp()) talkerLeft();
      else talkerAway();
    },
    error: (err) => go(Phase.refused, { err }),
  });
  requestBtn.addEventListener('click', request);
  hangupBtn.addEventListener('click', hangup);
  setInterval(nudge, 1000);
  video.addEventListener('playing', onMediaUp);
  addEventListener('pagehide', () => { if (watching()) bye(); });
}

main();
