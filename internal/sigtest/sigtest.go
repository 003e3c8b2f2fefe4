// Package sigtest starts a signaling server on loopback for tests.
package sigtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/broadcast-service/broadcast/signaling"
)

// Start serves a hub over socket.io until the test ends, and returns the
// server's base URL and the hub. The hub closes before the socket.io server,
// so a socket still being set up is refused rather than left open.
func Start(t testing.TB, opts signaling.Options, sopts signaling.ServerOptions) (string, *signaling.Hub) {
	t.Helper()
	hub := signaling.NewHub(opts)
	srv := signaling.NewServer(hub, sopts)
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ts.Close()
		if err := hub.Close(context.Background()); err != nil {
			t.Error(err)
		}
		_ = srv.Close()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ts.URL, hub
}

// LoadLimits lift the per-socket rate and the socket counts, which a load
// from one address on loopback would hit at once.
var LoadLimits = signaling.Limits{MessagesPerSecond: 1e9, MessageBurst: 1e9, EntersPerSecond: 1e9, EnterBurst: 1e9, AddrSockets: 1e6, Sockets: 1e6}
