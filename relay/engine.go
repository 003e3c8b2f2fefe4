package relay

import (
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/webrtc/v4"
)

// Engine is the pion side shared by every room a process relays: the ICE
// UDP port and the two APIs PeerConnections are made with. Its methods are
// safe for concurrent use.
type Engine struct {
	cfg Config
	// toTalker makes the PeerConnection receiving a talker's tracks, with
	// pion's default interceptors: NACK generator, receiver reports (and
	// the responder and sender reports, which a receive-only connection
	// does not use).
	toTalker *webrtc.API
	// toWatcher makes a watcher's PeerConnection: the relay's codecs and
	// no interceptor. pion's NACK responder would keep a copy of every
	// packet per watcher where the Upstream answers NACKs from one shared
	// buffer, and its sender report interceptor would map the relay's
	// send time rather than the talker's (see the package documentation):
	// the Room sends each watcher's sender reports itself.
	toWatcher *webrtc.API
	mux       ice.UDPMux // nil without Config.UDPPort

	socksMu sync.Mutex
	socks   []*batchConn // the mux's sockets
}

// NewEngine sets up cfg's ICE port and the APIs. It returns an error
// wrapping ErrBadConfig for a port out of range or a PublicIP that is no
// IP address, and the listener's error for a port it cannot listen on.
// Close it once every Room made with it has ended.
func NewEngine(cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	if cfg.UDPPort < 0 || cfg.UDPPort > 65535 {
		return nil, fmt.Errorf("%w: UDP port %d", ErrBadConfig, cfg.UDPPort)
	}
	if cfg.PublicIP != "" && net.ParseIP(cfg.PublicIP) == nil {
		return nil, fmt.Errorf("%w: public IP %q", ErrBadConfig, cfg.PublicIP)
	}
	e := &Engine{cfg: cfg}
	se := webrtc.SettingEngine{}
	if cfg.UDPPort > 0 {
		n, err := stdnet.NewNet()
		if err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
		mux, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort, ice.UDPMuxFromPortWithNet(batchNet{Net: n, log: cfg.Logger, opened: e.opened}),
			ice.UDPMuxFromPortWithIPFilter(routable))
		if err != nil {
			return nil, fmt.Errorf("ICE UDP port %d: %w", cfg.UDPPort, err)
		}
		e.mux = mux
		se.SetICEUDPMux(mux)
	}
	if cfg.PublicIP != "" {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: []string{cfg.PublicIP}, AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			_ = e.Close()
			return nil, fmt.Errorf("%w: public IP: %w", ErrBadConfig, err)
		}
	}
	var err error
	if e.toTalker, err = newAPI(se, true); err == nil {
		// No mDNS toward watchers: a browser hiding its addresses behind
		// mDNS host candidates still sends its connectivity checks to the
		// relay's port, which learns its address from them (a
		// peer-reflexive candidate, RFC 8445 §7.3.1.3). Each watcher's
		// PeerConnection then opens no multicast sockets (four, with a
		// goroutine each, per watcher otherwise).
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		e.toWatcher, err = newAPI(se, false)
	}
	if err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

// newAPI returns an API with the codecs the relay forwards (relayCodecs)
// on se, with pion's default interceptors or none.
func newAPI(se webrtc.SettingEngine, interceptors bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := registerRelayCodecs(m); err != nil {
		return nil, fmt.Errorf("codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if interceptors {
		if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
			return nil, fmt.Errorf("interceptors: %w", err)
		}
	} else {
		// Toward watchers: the send time on each video packet, for their
		// receive-side bandwidth estimate (REMB), which picks their
		// simulcast layer (Downstream's AbsSendTimeID).
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.ABSSendTimeURI}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("abs-send-time: %w", err)
		}
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir)), nil
}

// opened notes a socket of the ICE port, for SendStats.
func (e *Engine) opened(c *batchConn) {
	e.socksMu.Lock()
	defer e.socksMu.Unlock()
	e.socks = append(e.socks, c)
}

// SendStats returns, summed over the ICE port's sockets, the media
// datagrams (SRTP and SRTCP) written in batches, the system calls that
// wrote them, and those dropped for a full queue or a failed write. All 0
// without Config.UDPPort: each PeerConnection then writes its own.
func (e *Engine) SendStats() (datagrams, calls, dropped uint64) {
	e.socksMu.Lock()
	defer e.socksMu.Unlock()
	for _, c := range e.socks {
		datagrams += c.sent.Load()
		calls += c.batches.Load()
		dropped += c.Dropped()
	}
	return datagrams, calls, dropped
}

// Close closes the ICE port, if Config.UDPPort opened one.
func (e *Engine) Close() error {
	if e.mux == nil {
		return nil
	}
	return e.mux.Close()
}

// batchNet is the host's network, whose UDP sockets write media in batches
// (batchConn): the UDP mux's sockets, each passed to opened. A socket that
// stops draining is logged as its drops begin.
type batchNet struct {
	transport.Net
	log    *slog.Logger
	opened func(*batchConn)
}

// ListenUDP listens on laddr, and wraps the socket in a batchConn.
func (n batchNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	conn, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	c := &batchConn{UDPConn: conn}
	c.onStall = func() {
		n.log.Warn("media socket not draining: packets dropped", "addr", conn.LocalAddr().String(), "dropped", c.Dropped())
	}
	n.opened(c)
	return c.init(), nil
}

// routable reports whether the relay's ICE port listens on ip: not on an
// IPv6 link-local address (fe80::/10), which no watcher beyond the link
// reaches and which would cost every watcher's PeerConnection one more
// candidate, muxed connection and connectivity checks.
func routable(ip net.IP) bool { return !ip.IsLinkLocalUnicast() }
