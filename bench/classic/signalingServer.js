// The classic talk/watch signaling server on socket.io@2, written to the
// same protocol as the Go service, for side-by-side benchmarks only:
//   node signalingServer.js [port]
// It joins each socket to its room, stamps `from`, and relays `message` to
// `sendto` or to the rest of the room; on disconnect it tells the room.
'use strict';
const http = require('node:http');
const port = Number(process.argv[2] || process.env.PORT || 3002);
const server = http.createServer();
const io = require('socket.io')(server, { transports: ['websocket'] });

io.on('connection', (socket) => {
  let room = null;
  socket.on('enter', (name) => {
    room = name;
    socket.join(name);
  });
  socket.on('message', (message) => {
    message.from = socket.id;
    if (message.sendto) {
      socket.to(message.sendto).emit('message', message);
    } else if (room) {
      socket.broadcast.to(room).emit('message', message);
    } else {
      socket.broadcast.emit('message', message);
    }
  });
  socket.on('disconnect', () => {
    if (room) socket.broadcast.to(room).emit('user disconnected', { id: socket.id });
  });
});

server.listen(port, '127.0.0.1', () => console.log(`classic signaling server on http://127.0.0.1:${port}`));
