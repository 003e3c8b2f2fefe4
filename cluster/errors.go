package cluster

import "errors"

// Sentinel errors.
var (
	// ErrUnavailable: Redis cannot be reached; the node serves its own
	// sockets only until it can.
	ErrUnavailable = errors.New("redis unavailable")
	// ErrProtocol: a reply from Redis of an unexpected shape.
	ErrProtocol = errors.New("unexpected reply from redis")
	// ErrBadURL: the Redis URL does not parse.
	ErrBadURL = errors.New("bad redis url")
)
