package signaling

import (
	"strings"
	"testing"
)

func TestClientAddr(t *testing.T) {
	for _, tc := range []struct {
		name string
		peer string
		xff  []string
		hops int
		want string
	}{
		{"no proxy trusted", "192.0.2.1:4000", []string{"198.51.100.9"}, 0, "192.0.2.1"},
		{"the entry the proxy appended", "10.0.0.2:4000", []string{"203.0.113.66, 198.51.100.9"}, 1, "198.51.100.9"},
		{"two proxies", "10.0.0.2:4000", []string{"203.0.113.66", "198.51.100.9, 10.0.0.1"}, 2, "198.51.100.9"},
		{"a port in the entry", "10.0.0.2:4000", []string{"198.51.100.9:5555"}, 1, "198.51.100.9"},
		{"empty entries", "10.0.0.2:4000", []string{","}, 1, "10.0.0.2"},
		{"no header", "10.0.0.2:4000", nil, 1, "10.0.0.2"},
		{"fewer entries than proxies", "10.0.0.2:4000", []string{"198.51.100.9"}, 2, "10.0.0.2"},
		{"not an address", "10.0.0.2:4000", []string{"unknown"}, 1, "10.0.0.2"},
		{"IPv6 by /64", "[2001:db8:1:2:aaaa::1]:4000", nil, 0, "2001:db8:1:2::/64"},
		{"IPv6 entry by /64", "10.0.0.2:4000", []string{"2001:db8:1:2:ffff::7"}, 1, "2001:db8:1:2::/64"},
		{"IPv4-mapped", "[::ffff:192.0.2.1]:4000", nil, 0, "192.0.2.1"},
		{"zone dropped", "[fe80::1%eth0]:4000", nil, 0, "fe80::/64"},
	} {
		if got := clientAddr(tc.peer, tc.xff, tc.hops); got != tc.want {
			t.Errorf("%s: clientAddr(%q, %q, %d) = %q, want %q", tc.name, tc.peer, tc.xff, tc.hops, got, tc.want)
		}
	}
}

// Whatever a client writes in X-Forwarded-For, its socket counts against
// some non-empty address, and against the peer's unless the header holds
// an address where the trusted proxy puts it.
func FuzzClientAddr(f *testing.F) {
	f.Add("203.0.113.66, 198.51.100.9", 1)
	f.Add(",", 1)
	f.Add(" , ,2001:db8::1", 2)
	f.Add("[::1]:80", 1)
	f.Fuzz(func(t *testing.T, xff string, hops int) {
		hops %= 4
		got := clientAddr("10.0.0.2:4000", strings.Split(xff, "\n"), hops)
		if got == "" {
			t.Fatalf("empty address for %q", xff)
		}
		if hops <= 0 && got != "10.0.0.2" {
			t.Fatalf("without a trusted proxy the header chose %q", got)
		}
	})
}
