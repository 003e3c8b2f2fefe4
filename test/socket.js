// A socket.io-client 2.x socket for tests that speak the protocol by hand.
'use strict';
const io = require('socket.io-client');

// connect opens a socket to url and enters (a room name or {room, role,
// key}; null enters nothing); it resolves once connected and, if it
// entered, once the server replied `entered` (kept as s.entered).
// s.next(ev) resolves with the next `ev` the socket receives, within 10 s;
// s.nextMessage(type) with the next `message` of that type, dropping others.
function connect(url, enter) {
  const s = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  const inbox = [];
  const waiters = [];
  for (const ev of ['message', 'user disconnected', 'signaling_error', 'entered']) {
    s.on(ev, (arg) => {
      const w = waiters.findIndex((w) => w.ev === ev);
      if (w >= 0) waiters.splice(w, 1)[0].resolve(arg);
      else inbox.push({ ev, arg });
    });
  }
  s.next = (ev) => {
    const i = inbox.findIndex((m) => m.ev === ev);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0].arg);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${s.id}: no ${ev} within 10s`)), 10000);
      waiters.push({ ev, resolve: (v) => { clearTimeout(timer); resolve(v); } });
    });
  };
  s.nextMessage = async (type) => {
    for (;;) {
      const m = await s.next('message');
      if (m.type === type) return m;
    }
  };
  s.inbox = inbox;
  return new Promise((resolve, reject) => {
    s.on('connect', async () => {
      if (enter) {
        s.emit('enter', enter);
        s.entered = await s.next('entered');
      }
      resolve(s);
    });
    s.on('connect_error', reject);
  });
}

module.exports = { connect };
