package sioclient

import "errors"

var (
	// ErrClosed is returned by Emit after the connection has closed.
	ErrClosed = errors.New("socket.io client closed")
	// ErrProtocol is returned by Dial when the server's handshake is not the
	// Engine.IO 3 / socket.io one.
	ErrProtocol = errors.New("socket.io protocol error")
	// ErrFrameTooLarge ends a connection whose server sent a message over
	// protocol.MaxFrameBytes.
	ErrFrameTooLarge = errors.New("socket.io message too large")
	// ErrServerSilent ends a connection whose server sent nothing for its
	// ping interval plus its ping timeout.
	ErrServerSilent = errors.New("socket.io server silent")
)
