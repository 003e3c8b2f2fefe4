package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"strconv"

	"github.com/broadcast-service/broadcast/signaling"
)

// relayConfig is how the server's relay serves rooms (-relay ...): what
// the hub and the relay manager read.
type relayConfig struct {
	// Mode is when rooms get a relay (-relay): auto, off or always.
	Mode signaling.RelayMode
	// MaxWatchers is how many watchers one room's relay serves before it
	// answers talk_reject {reason: "full"} (-relay-max-watchers).
	MaxWatchers int
	// UDPPort is the UDP port the relays' media use, 0 for an ephemeral
	// port per peer (-relay-udp-port).
	UDPPort int
	// PublicIP is the address the relays announce in their ICE candidates
	// (a host behind 1:1 NAT), "" for the host's own (-relay-public-ip).
	PublicIP string
	// Secret is the key a relay enters its room with, made at random for
	// each process: relays enter on their own node. Never logged.
	Secret string
}

// relaySecretBytes is the relay secret's length, in random bytes.
const relaySecretBytes = 32

// newRelaySecret returns relaySecretBytes random bytes, base64url-encoded.
func newRelaySecret() string {
	b := make([]byte, relaySecretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// relayFlags registers the relay's flags on f; the returned function,
// called after parsing, gives their configuration.
func relayFlags(f *flags) func() relayConfig {
	mode := typed(f, "relay", "BROADCAST_RELAY", string(signaling.RelayAuto), "when a room's watchers are served through the server's relay: auto (once the talker is full), off or always", signaling.ParseRelayMode)
	maxWatchers := typed(f, "relay-max-watchers", "BROADCAST_RELAY_MAX_WATCHERS", "200", "watchers one room's relay serves before answering talk_reject {reason: \"full\"}", atLeast(1))
	port := typed(f, "relay-udp-port", "BROADCAST_RELAY_UDP_PORT", "0", "UDP port of the relays' media; 0 picks an ephemeral port", udpPort)
	ip := typed(f, "relay-public-ip", "BROADCAST_RELAY_PUBLIC_IP", "", "IP address the relays announce in their ICE candidates (behind 1:1 NAT); empty announces the host's own", publicIP)
	return func() relayConfig {
		return relayConfig{Mode: *mode, MaxWatchers: *maxWatchers, UDPPort: *port, PublicIP: *ip, Secret: newRelaySecret()}
	}
}

func udpPort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, errors.New("want a port from 0 to 65535")
	}
	return n, nil
}

func publicIP(s string) (string, error) {
	if s != "" && net.ParseIP(s) == nil {
		return "", errors.New("want an IP address")
	}
	return s, nil
}

// relayStarter is what starts the rooms' relays for the hub, for a
// server listening at addr; nil, with -relay off, starts none (a nil
// signaling.Options.Relay is the off behaviour).
//
// RELAY MANAGER: wire it here. The relay manager (package relay) implements
// signaling.RelayStarter: for each room asked for, it enters the room over
// a loopback session to addr as role relay with cfg.Secret, and serves up
// to cfg.MaxWatchers watchers on cfg.UDPPort / cfg.PublicIP, until the
// talker leaves or the server drains. Until then this returns nil, and
// every mode behaves as off.
func relayStarter(cfg relayConfig, addr net.Addr, log *slog.Logger) signaling.RelayStarter {
	if cfg.Mode == signaling.RelayOff {
		return nil
	}
	_, _ = addr, log
	return nil
}
