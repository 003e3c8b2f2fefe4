// Protocol compatibility: the official socket.io-client 2.x (the one the
// pages load) against the Go server, speaking the classic talk/watch protocol.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { startServer, binary } = require('./server');
const { connect: dial } = require('./socket');

let server;
const sockets = [];

before(async () => { server = await startServer(); });
after(async () => {
  sockets.forEach((s) => s.close());
  await server.stop();
});

// connect opens a socket to the server (or url) and enters; the sockets
// close after the tests.
async function connect(enter, url = server.url) {
  const s = await dial(url, enter);
  sockets.push(s);
  return s;
}

// settle proves the server has handled all s sent: a refused sendto comes
// back as an error, after everything before it.
async function settle(s) {
  s.emit('message', { type: 'bye', sendto: 'settle-probe' });
  const err = await s.next('signaling_error');
  assert.equal(err.code, 'unknown_recipient');
}

test('classic talk/watch handshake: the first talk_ready makes the talker; from stamped, sendto honoured, no echo', async () => {
  const talker = await connect('room-a');
  const w1 = await connect('room-a');
  const w2 = await connect('room-a');
  const other = await connect('room-b');
  await Promise.all([talker, w1, w2, other].map(settle));
  assert.deepEqual(talker.entered, { room: 'room-a', role: 'watcher', iceServers: [] });

  talker.emit('message', { type: 'talk_ready' });
  for (const w of [w1, w2]) {
    const m = await w.next('message');
    assert.deepEqual(m, { type: 'talk_ready', from: talker.id });
  }

  w1.emit('message', { type: 'talk_request', sendto: talker.id });
  assert.deepEqual(await talker.next('message'), { type: 'talk_request', sendto: talker.id, from: w1.id });

  const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n', sendto: w1.id };
  talker.emit('message', offer);
  assert.deepEqual(await w1.next('message'), { ...offer, from: talker.id });

  const cand = { type: 'candidate', sendto: talker.id, candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
  w1.emit('message', cand);
  assert.deepEqual(await talker.next('message'), { ...cand, from: w1.id });

  // A forged from is replaced by the sender's id.
  w2.emit('message', { type: 'bye', sendto: talker.id, from: w1.id });
  assert.equal((await talker.next('message')).from, w2.id);

  await Promise.all([talker, w1, w2, other].map(settle));
  for (const s of [talker, w1, w2, other]) {
    assert.deepEqual(s.inbox, [], `${s.id} got more than it should`);
  }
});

test('bad input gets a signaling_error to its sender alone', async () => {
  const a = await connect('room-c');
  const b = await connect('room-c');
  await settle(b);
  a.emit('message', 'not an object');
  assert.equal((await a.next('signaling_error')).code, 'bad_message');
  a.emit('message', { sdp: 'no type' });
  assert.equal((await a.next('signaling_error')).code, 'bad_message');
  a.emit('enter', 42);
  assert.equal((await a.next('signaling_error')).code, 'bad_room');
  a.emit('message', { type: 'shout' });
  assert.equal((await a.next('signaling_error')).code, 'unknown_type');
  a.emit('message', { type: 'offer', sendto: b.id });
  assert.equal((await a.next('signaling_error')).code, 'not_talker');
  a.emit('message', { type: 'bye', sendto: 'someone-else' });
  const err = await a.next('signaling_error');
  assert.equal(err.code, 'unknown_recipient');
  assert.match(err.message, /someone-else/);
  // The room still works.
  a.emit('message', { type: 'talk_ready' });
  assert.equal((await b.next('message')).type, 'talk_ready');
  await settle(b);
  assert.deepEqual(b.inbox, []);
});

test('a message before enter is refused', async () => {
  const a = await connect(null);
  a.emit('message', { type: 'talk_ready' });
  assert.equal((await a.next('signaling_error')).code, 'not_in_room');
});

test('a watcher leaving is announced to the talker once, not to other rooms', async () => {
  const a = await connect('room-d');
  const b = await connect('room-d');
  const other = await connect('room-e');
  await Promise.all([a, b, other].map(settle));
  a.emit('message', { type: 'talk_ready' });
  await b.next('message');
  const id = b.id;
  b.close();
  assert.deepEqual(await a.next('user disconnected'), { id });
  await settle(a);
  await settle(other);
  assert.deepEqual(a.inbox, []);
  assert.deepEqual(other.inbox, []);
});

test('roles: one talker a room; watchers reach only the talker and never see each other', async () => {
  const talker = await connect({ room: 'room-f', role: 'talker' });
  // An open room's talker gets a retake token: 128 random bits, base64url.
  const { retake, ...entered } = talker.entered;
  assert.deepEqual(entered, { room: 'room-f', role: 'talker', iceServers: [] });
  assert.match(retake, /^[A-Za-z0-9_-]{22}$/);
  const w1 = await connect({ room: 'room-f', role: 'watcher' });
  const w2 = await connect({ room: 'room-f', role: 'watcher' });
  const second = await connect(null);
  second.emit('enter', { room: 'room-f', role: 'talker' });
  assert.equal((await second.next('signaling_error')).code, 'room_taken');
  w1.emit('message', { type: 'talk_ready' });
  assert.equal((await w1.next('signaling_error')).code, 'not_talker');
  w1.emit('message', { type: 'talk_request' });
  assert.equal((await talker.next('message')).from, w1.id);
  w1.emit('message', { type: 'candidate', sendto: w2.id, candidate: '' });
  assert.equal((await w1.next('signaling_error')).code, 'unknown_recipient');
  const w2id = w2.id;
  w2.close();
  assert.deepEqual(await talker.next('user disconnected'), { id: w2id });
  await Promise.all([talker, w1].map(settle));
  assert.deepEqual(w1.inbox, [], 'a watcher heard of another watcher');
});

test('keyed rooms: talk keys and expiring watch keys from `broadcast keys`', async () => {
  const keyed = await startServer(['-talk-secret', 'test-secret', '-private-rooms']);
  try {
    const out = execFileSync(binary, ['keys', '-room', 'lecture 9', '-talk-secret', 'test-secret', '-watch-ttl', '1h', '-base', keyed.url]).toString();
    const key = (page) => new URL(out.split('\n').find((l) => l.includes(page)).split(/\s+/)[1]).searchParams.get('key');
    const forger = await connect(null, keyed.url);
    forger.emit('enter', { room: 'lecture 9', role: 'talker', key: 'forged' });
    assert.equal((await forger.next('signaling_error')).code, 'bad_key');
    forger.emit('enter', { room: 'lecture 9', role: 'talker', key: key('talk.html').replace(/.$/, 'x') });
    assert.equal((await forger.next('signaling_error')).code, 'bad_key');
    const talker = await connect({ room: 'lecture 9', role: 'talker', key: key('talk.html') }, keyed.url);
    assert.equal(talker.entered.role, 'talker');

    const stranger = await connect(null, keyed.url);
    stranger.emit('enter', 'lecture 9');
    assert.equal((await stranger.next('signaling_error')).code, 'bad_key');
    stranger.emit('enter', { room: 'lecture 9', role: 'watcher', key: '1.expired-and-forged' });
    assert.equal((await stranger.next('signaling_error')).code, 'bad_key');
    const watcher = await connect({ room: 'lecture 9', role: 'watcher', key: key('watch.html') }, keyed.url);
    talker.emit('message', { type: 'talk_ready' });
    assert.equal((await watcher.next('message')).from, talker.id);
  } finally {
    await keyed.stop();
  }
});
