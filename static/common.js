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

// loadConfig returns {maxWatchers, iceServers, offerTimeoutMs,
// maxPendingCandidates, resumeGraceMs, retryMs, reportMs, retakeMs} from
// the server: the protocol's timing comes from there, as the Go peers have
// it, so the two cannot drift.
async function loadConfig() {
  const res = await fetch(base + 'config', { cache: 'no-store' });
  if (!res.ok) throw new Error(`config: HTTP ${res.status}`);
  return res.json();
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

export function setState(el, text, kind = '') {
  el.textContent = text;
  el.dataset.kind = kind;
}

// errorText says a signaling_error {code, message} in plain words.
export function errorText(err) {
  const text = {
    room_taken: 'this room already has a broadcaster',
    bad_key: 'the key in this link is not valid for this room',
    expired: 'this link has expired',
    not_talker: 'only the room\'s broadcaster may do that',
    room_full: 'too many people are in this room',
    too_many_sockets: 'too many connections; try again later',
    rate_limited: 'too many messages; slow down',
  }[err.code];
  return `error: ${text || err.message}`;
}

// connect opens the signaling socket, enters with enterArg ({room, role,
// key?}) on every (re)connect and calls on.entered({room, role,
// iceServers}), on.message(msg), on.userDisconnected(id), on.error(err),
// on.connect() and on.disconnect(). It returns {send(msg), enter()}: enter
// asks to enter again, as after a refusal that may pass.
export function connect(enterArg, on) {
  // Only the WebSocket transport: the server speaks no long-polling.
  const socket = io({ path: base + 'socket.io', transports: ['websocket'] });
  const enter = () => socket.emit('enter', enterArg);
  socket.on('connect', () => {
    enter();
    on.connect?.();
  });
  socket.on('entered', (ev) => on.entered?.(ev));
  socket.on('disconnect', () => on.disconnect?.());
  socket.on('message', (msg) => on.message(msg));
  socket.on('user disconnected', (ev) => on.userDisconnected?.(ev.id));
  socket.on('signaling_error', (err) => {
    // Refused, and idle since: the server closes the socket. Reconnecting
    // would only be refused again; the page keeps showing why.
    if (err.code === 'enter_timeout') {
      socket.close();
      return;
    }
    on.error?.(err);
  });
  return { send: (msg) => socket.emit('message', msg), enter };
}

// iceUfrag returns the a=ice-ufrag of an SDP: it names one media session,
// and only its two ends (and the server) have seen it.
export const iceUfrag = (sdp) => /^a=ice-ufrag:(\S+)/m.exec(sdp || '')?.[1];

// Trickle ICE: a candidate is sent as {sdpMLineIndex, sdpMid, candidate};
// candidates that arrive before the remote description wait in pending, up
// to limit (the server's maxPendingCandidates); any more are dropped.
export function candidateMessage(c, sendto) {
  return { type: 'candidate', sendto, candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
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
