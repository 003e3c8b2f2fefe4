package relay

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func TestEngineRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{{UDPPort: -1}, {UDPPort: 70000}, {PublicIP: "relay.example"}} {
		if _, err := NewEngine(cfg); !errors.Is(err, ErrBadConfig) {
			t.Errorf("NewEngine(%+v) = %v, want ErrBadConfig", cfg, err)
		}
	}
}

// freeUDPPort returns a UDP port nothing listens on, as of now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// hostCandidates gathers the candidates of a PeerConnection of api with a
// video transceiver, and returns its host candidates' address and port.
func hostCandidates(t *testing.T, api *webrtc.API) []string {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		t.Fatal("gathering did not complete")
	}
	var hosts []string
	for _, line := range strings.Split(pc.LocalDescription().SDP, "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "a=candidate:"))
		if len(f) >= 8 && f[2] == "udp" && f[7] == "host" {
			hosts = append(hosts, net.JoinHostPort(f[4], f[5]))
		}
	}
	return hosts
}

// TestEngineOnePort: with Config.UDPPort, every PeerConnection's host
// candidates, toward talker and watchers, are on that port.
func TestEngineOnePort(t *testing.T) {
	port := freeUDPPort(t)
	eng, err := NewEngine(Config{UDPPort: port})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for _, api := range []*webrtc.API{eng.toTalker, eng.toWatcher, eng.toWatcher} {
		hosts := hostCandidates(t, api)
		if len(hosts) == 0 {
			t.Fatal("no host candidate")
		}
		for _, h := range hosts {
			if !strings.HasSuffix(h, ":"+strconv.Itoa(port)) {
				t.Errorf("host candidate %s, want port %d", h, port)
			}
		}
	}
}

// TestEnginePublicIP: Config.PublicIP replaces the addresses of the host
// candidates of its family.
func TestEnginePublicIP(t *testing.T) {
	eng, err := NewEngine(Config{PublicIP: "203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	v4 := 0
	for _, h := range hostCandidates(t, eng.toWatcher) {
		ip, _, _ := net.SplitHostPort(h)
		if net.ParseIP(ip).To4() == nil {
			continue // an IPv4 address stands for IPv4 candidates only
		}
		v4++
		if ip != "203.0.113.7" {
			t.Errorf("host candidate %s, want 203.0.113.7", h)
		}
	}
	if v4 == 0 {
		t.Fatal("no IPv4 host candidate")
	}
}

// TestRelayOnOnePort: the relay serves a watcher with every
// PeerConnection on Config.UDPPort.
func TestRelayOnOnePort(t *testing.T) {
	r := newRig(t, Config{UDPPort: freeUDPPort(t)})
	w := r.watch("w1")
	within(t, w.enough, 20*time.Second, "media")
	if !w.firstKeyframe() {
		t.Error("the first video packet does not begin a keyframe")
	}
	// The media went out in batches through the port's sockets (a loaded
	// host may drop some: not asserted).
	if sent, calls, _ := r.room.eng.SendStats(); calls == 0 || sent < calls {
		t.Errorf("%d datagrams sent in %d calls", sent, calls)
	}
}
