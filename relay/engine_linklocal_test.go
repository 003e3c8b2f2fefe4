package relay

import (
	"net"
	"testing"
)

// TestEngineNoLinkLocal: the ICE port listens on no IPv6 link-local
// address, so no PeerConnection has a candidate there.
func TestEngineNoLinkLocal(t *testing.T) {
	for ip, want := range map[string]bool{"fe80::1": false, "192.0.2.2": true, "fd00::2": true, "2001:db8::1": true} {
		if got := routable(net.ParseIP(ip)); got != want {
			t.Errorf("routable(%s) = %v", ip, got)
		}
	}
	eng, err := NewEngine(Config{UDPPort: freeUDPPort(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for _, a := range eng.mux.GetListenAddresses() {
		if ua, ok := a.(*net.UDPAddr); ok && ua.IP.IsLinkLocalUnicast() {
			t.Errorf("listening on %v", a)
		}
	}
	for _, h := range hostCandidates(t, eng.toWatcher) {
		host, _, _ := net.SplitHostPort(h)
		if ip := net.ParseIP(host); ip != nil && ip.IsLinkLocalUnicast() {
			t.Errorf("host candidate %s", h)
		}
	}
}
