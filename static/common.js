// Shared by talk.js and watch.js: the room from the URL, the server's
// configuration, the signaling socket and small WebRTC helpers.

const base = location.pathname.replace(/[^/]*$/, '');

const params = new URLSearchParams(location.search);

// roomFromURL returns the ?room= value, or null after telling the user.
function roomFromURL(state) {
  const room = params.get('room');
  document.getElementById('room-name').textContent = room || '';
  if (!room) {
    setState(state, 'error: no room in the address; open this page as ?room=NAME', 'error');
    return null;
  }
  return room;
}

// The protocol's words, as the server's /config has them (Go's
// protocol.Vocabulary): events.enter is 'enter', types.talkRequest is
// 'talk_request', codes.roomTaken is 'room_taken' and so on. Empty until
// start() loads them, which it does before any socket is opened; frozen
// then. The pages spell none of these words themselves.
export const events = {};
export const types = {};
export const rejects = {};
export const codes = {};
export const roles = {};
export const layers = {};

// loadConfig returns {maxWatchers, iceServers, offerTimeoutMs,
// maxPendingCandidates, resumeGraceMs, retryMs, reportMs, retakeMs,
// protocol} from the server, and fills the words above from its protocol:
// the protocol's timing and words come from there, as the Go peers have
// them, so the two cannot drift.
async function loadConfig() {
  const res = await fetch(base + 'config', { cache: 'no-store' });
  if (!res.ok) throw new Error(`config: HTTP ${res.status}`);
  const config = await res.json();
  const words = { events, types, rejects, codes, roles, layers };
  for (const [kind, into] of Object.entries(words)) {
    if (!config.protocol?.[kind]) throw new Error(`config: no protocol ${kind}`);
    Object.freeze(Object.assign(into, config.protocol[kind]));
  }
  return config;
}

// phases returns an enum of the names: a frozen object whose every value
// is its name.
export const phases = (...names) => Object.freeze(Object.fromEntries(names.map((n) => [n, n])));

// pagePhases returns a page's Phase enum: the names given, and the four
// every page has (see phaseMachine): entering, offline, refused and error.
export const pagePhases = (...names) => phases('entering', ...names, 'offline', 'refused', 'error');

// phaseMachine holds a page's phase: the page is in one at a time,
// {phase, since (ms)} and what the phase keeps (its detail). go(phase,
// detail) is the one move: it shows the new phase in the status line el
// (view(s) returns its [text, kind]; the four phases every page has are
// drawn here) and calls render(). It starts in entering (the page's first
// connection, as its HTML shows it).
//
// offline (the socket lost), refused (a signaling_error, as {err}), error
// (as {text}) and the page's own interruptions interrupt a phase: the page
// keeps it (as before, which base() returns) to go on from, and the next
// move ends them. A phase's timer (its detail's timer) runs on through an
// interruption and stops when the page moves to another phase, unless
// carry(phase, from, current) hands it on: carry returns what the next
// phase takes over from the one it leaves (from, the base) or from the
// current one.
export function phaseMachine(el, { view, interruptions = [], carry = () => ({}), render = () => {} }) {
  const interrupting = new Set(['offline', 'refused', 'error', ...interruptions]);
  let current = { phase: 'entering', since: performance.now() };
  const base = () => current.before ?? current;
  const show = (s) => {
    switch (s.phase) {
      case 'entering': return ['connecting to the server', ''];
      case 'offline': return ['reconnecting to the server', 'error'];
      case 'refused': return [errorText(s.err), 'error'];
      case 'error': return [`error: ${s.text}`, 'error'];
    }
    return view(s);
  };
  return {
    current: () => current,
    base,
    view: show,
    go(phase, detail = {}) {
      const from = base();
      const next = { phase, since: performance.now() };
      if (interrupting.has(phase)) next.before = from;
      Object.assign(next, carry(phase, from, current), detail);
      if (!interrupting.has(phase) && from.timer !== next.timer) clearTimeout(from.timer);
      current = next;
      setState(el, ...show(current));
      render();
    },
  };
}

// start returns {room, key, config} for a page, or null after showing why
// not. ?key= is the room key of a signed link; ?relay=1 sends media through
// TURN only (to check a TURN setup).
export async function start(state) {
  const room = roomFromURL(state);
  if (!room) return null;
  try {
    const config = await loadConfig();
    config.iceTransportPolicy = params.get('relay') === '1' ? 'relay' : 'all';
    return { room, key: params.get('key') || undefined, config };
  } catch (err) {
    setState(state, `error: ${err.message}`, 'error');
    return null;
  }
}

// setState shows text in the status line el, with kind (its data-kind:
// '', 'live', 'left', 'full' or 'error') for its colour.
export function setState(el, text, kind = '') {
  if (el.textContent === text && el.dataset.kind === kind) return;
  el.textContent = text;
  el.dataset.kind = kind;
}

// errorText says a signaling_error {code, message} in plain words.
export function errorText(err) {
  const text = {
    [codes.roomTaken]: 'this room already has a broadcaster',
    [codes.badKey]: 'the key in this link is not valid for this room',
    [codes.expired]: 'this link has expired',
    [codes.notTalker]: 'only the room\'s broadcaster may do that',
    [codes.roomFull]: 'too many people are in this room',
    [codes.tooManySockets]: 'too many connections; try again later',
    [codes.rateLimited]: 'too many messages; slow down',
  }[err.code];
  return `error: ${text || err.message}`;
}

// connect opens the signaling socket, enters with enterArg ({room, role,
// key?}) on every (re)connect and calls on.entered({room, role,
// iceServers}), on.message(msg), on.userDisconnected(id), on.error(err),
// on.connect() and on.disconnect(). It returns {send(msg), enter(),
// inRoom()}: enter asks to enter again, as after a refusal that may pass;
// inRoom says whether the socket is in the room: entered, and not
// disconnected since.
export function connect(enterArg, on) {
  // Only the WebSocket transport: the server speaks no long-polling.
  const socket = io({ path: base + 'socket.io', transports: ['websocket'] });
  let inRoom = false;
  const enter = () => socket.emit(events.enter, enterArg);
  socket.on('connect', () => {
    enter();
    on.connect?.();
  });
  socket.on(events.entered, (ev) => {
    inRoom = true;
    on.entered?.(ev);
  });
  socket.on('disconnect', () => {
    inRoom = false;
    on.disconnect?.();
  });
  socket.on(events.message, (msg) => on.message(msg));
  socket.on(events.userDisconnected, (ev) => on.userDisconnected?.(ev.id));
  socket.on(events.error, (err) => {
    // Refused, and idle since: the server closes the socket. Reconnecting
    // would only be refused again; the page keeps showing why.
    if (err.code === codes.enterTimeout) {
      socket.close();
      return;
    }
    on.error?.(err);
  });
  return { send: (msg) => socket.emit(events.message, msg), enter, inRoom: () => inRoom };
}

// peerConnection is a new RTCPeerConnection with the server's ICE servers
// and the page's ICE transport policy (config.iceTransportPolicy).
export const peerConnection = (config) => new RTCPeerConnection({ iceServers: config.iceServers, iceTransportPolicy: config.iceTransportPolicy });

// iceUfrag returns the a=ice-ufrag of an SDP: it names one media session,
// and only its two ends (and the server) have seen it.
export const iceUfrag = (sdp) => /^a=ice-ufrag:(\S+)/m.exec(sdp || '')?.[1];

// Trickle ICE: a candidate is sent as {sdpMLineIndex, sdpMid, candidate};
// candidates that arrive before the remote description wait in pending, up
// to limit (the server's maxPendingCandidates); any more are dropped.
export function candidateMessage(c, sendto) {
  return { type: types.candidate, sendto, candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
}

export async function addCandidate(pc, pending, msg, limit) {
  const c = { candidate: msg.candidate, sdpMid: msg.sdpMid, sdpMLineIndex: msg.sdpMLineIndex };
  if (!pc.remoteDescription) {
    if (pending.length < limit) pending.push(c);
    return;
  }
  await pc.addIceCandidate(c);
}

export async function flushCandidates(pc, pending) {
  for (const c of pending.splice(0)) await pc.addIceCandidate(c);
}
