package protocol

// MaxFrameBytes bounds one WebSocket message, either way, in bytes: the
// server disconnects a client that sends a larger one, and a Go peer's
// socket.io client ends its connection on a larger one from the server.
// A `message` is bounded far lower, by the server's limits.
const MaxFrameBytes = 1 << 20
