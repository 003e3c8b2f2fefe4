package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/broadcast-service/broadcast/signaling"
)

// The hub gets the relay's mode and secret; the secret is new for each
// process, and -relay off starts no relay.
func TestRelayConfigReachesTheHub(t *testing.T) {
	a, err := parseServeConfig([]string{"-relay", "always"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseServeConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if a.Relay.Secret == b.Relay.Secret {
		t.Fatal("two processes would share a relay secret")
	}
	log := slog.New(slog.DiscardHandler)
	opts := hubOptions(a, log)
	if opts.RelayMode != signaling.RelayAlways || opts.RelaySecret != a.Relay.Secret {
		t.Fatalf("hub options: mode %q, secret set %v", opts.RelayMode, opts.RelaySecret == a.Relay.Secret)
	}
	off := a.Relay
	off.Mode = signaling.RelayOff
	if relayStarter(off, nil, log) != nil {
		t.Fatal("-relay off has a relay starter")
	}
}
