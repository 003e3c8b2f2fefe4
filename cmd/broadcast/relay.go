package main

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/relay"
	"github.com/broadcast-service/broadcast/signaling"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// relayConfig is how the server's relay serves rooms (-relay ...): what
// the hub and the relay manager read.
type relayConfig struct {
	// Mode is when rooms get a relay (-relay): auto, off or always.
	Mode signaling.RelayMode
	// MaxWatchers is how many watchers one room's relay serves before it
	// answers talk_reject {reason: "full"} (-relay-max-watchers).
	MaxWatchers int
	// MaxRooms is how many rooms' relays run at once (-relay-max-rooms).
	MaxRooms int
	// UDPPort is the UDP port the relays' media use, 0 for an ephemeral
	// port per peer (-relay-udp-port).
	UDPPort int
	// PublicIP is the address the relays announce in their ICE candidates
	// (a host behind 1:1 NAT), "" for the host's own (-relay-public-ip).
	PublicIP string
	// GOPCacheBytes is relay.Config.GOPCacheBytes: 0 for the default, below
	// 0 no cache.
	GOPCacheBytes int
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
	maxRooms := typed(f, "relay-max-rooms", "BROADCAST_RELAY_MAX_ROOMS", "100", "rooms relayed at once; past it a room's watchers past its talker's cap are refused as with -relay off", atLeast(1))
	port := typed(f, "relay-udp-port", "BROADCAST_RELAY_UDP_PORT", "0", "UDP port of the relays' media; 0 picks an ephemeral port", udpPort)
	ip := typed(f, "relay-public-ip", "BROADCAST_RELAY_PUBLIC_IP", "", "IP address the relays announce in their ICE candidates (behind 1:1 NAT); empty announces the host's own", publicIP)
	return func() relayConfig {
		return relayConfig{Mode: *mode, MaxWatchers: *maxWatchers, MaxRooms: *maxRooms, UDPPort: *port, PublicIP: *ip, Secret: newRelaySecret()}
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

// newRelays returns the manager of the rooms' relays for a server
// listening at addr, or nil with -relay off. Each room's relay enters its
// room over a loopback signaling session to addr as role relay with
// cfg.Relay.Secret, and serves up to cfg.Relay.MaxWatchers watchers from
// the one UDP port cfg.Relay.UDPPort, until the talker leaves or the server
// drains; cert is the certificate the server serves TLS with, nil for
// none. It returns an error if the UDP port cannot be had.
func newRelays(cfg serveConfig, addr net.Addr, cert *tls.Certificate, log *slog.Logger) (*relay.Manager, error) {
	if cfg.Relay.Mode == signaling.RelayOff {
		return nil, nil
	}
	dial, scheme := loopbackDial(cert)
	return relay.NewManager(relay.ManagerConfig{
		Server: scheme + "://" + loopback(addr), Secret: cfg.Relay.Secret, Dial: dial, MaxRooms: cfg.Relay.MaxRooms,
		Relay: relay.Config{UDPPort: cfg.Relay.UDPPort, PublicIP: cfg.Relay.PublicIP, MaxWatchers: cfg.Relay.MaxWatchers, GOPCacheBytes: cfg.Relay.GOPCacheBytes, Logger: log.With("from", "relay")},
	})
}

// loopback is the address to reach a server listening at addr from the
// same host: 127.0.0.1 in place of an unspecified IP.
func loopback(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP == nil || tcp.IP.IsUnspecified() {
		_, port, _ := net.SplitHostPort(addr.String())
		return net.JoinHostPort("127.0.0.1", port)
	}
	return tcp.String()
}

// loopbackDial is how the relays dial their own server: over TLS when it
// serves TLS with cert, trusting exactly that certificate (its name need
// not be the loopback address's).
func loopbackDial(cert *tls.Certificate) (*sioclient.Options, string) {
	if cert == nil {
		return nil, "http"
	}
	own := cert.Certificate[0]
	tlsCfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain and name are checked by comparing with our own leaf.
		InsecureSkipVerify: true, //nolint:gosec // VerifyPeerCertificate pins the server's own certificate
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], own) {
				return errors.New("not this server's certificate")
			}
			return nil
		},
	}
	return &sioclient.Options{Dialer: &websocket.Dialer{TLSClientConfig: tlsCfg, HandshakeTimeout: relayDialTimeout}}, "https"
}

// relayDialTimeout bounds a relay's WebSocket handshake with its own server.
const relayDialTimeout = 10 * time.Second
