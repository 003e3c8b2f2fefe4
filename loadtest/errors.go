package loadtest

import "errors"

// ErrRefused is returned by a scenario whose socket the server refused
// with a `signaling_error`; the error carries the server's frame.
var ErrRefused = errors.New("refused by the server")
