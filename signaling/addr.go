package signaling

import (
	"net"
	"net/netip"
	"strings"
)

// clientAddr is the key a socket counts against for the per-address limit:
// its IP address, or with hops trusted reverse proxies in front of the
// server, the address the outermost of them appended to X-Forwarded-For
// (the hops-th entry from the right; entries to its left are the client's
// to choose). peer is the connection's remote address (host:port) and xff
// the X-Forwarded-For header lines in order. A header with fewer entries
// than hops, or an entry that is not an IP address, counts against peer,
// never against an empty key. See addrKey for how addresses are keyed.
func clientAddr(peer string, xff []string, hops int) string {
	if hops > 0 {
		var entries []string
		for _, line := range xff {
			entries = append(entries, strings.Split(line, ",")...)
		}
		if i := len(entries) - hops; i >= 0 {
			if a, ok := parseAddr(strings.TrimSpace(entries[i])); ok {
				return addrKey(a)
			}
		}
	}
	host := peer
	if h, _, err := net.SplitHostPort(peer); err == nil {
		host = h
	}
	if a, ok := parseAddr(host); ok {
		return addrKey(a)
	}
	return peer
}

// parseAddr reads an IP address, with or without a port or a zone.
func parseAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone(""), true
	}
	return netip.Addr{}, false
}

// ipv6ClientBits is the prefix one IPv6 client is assumed to hold: a /64
// is the smallest block an ISP hands a subscriber (RFC 6177), so each of
// its 2⁶⁴ addresses is the same client.
const ipv6ClientBits = 64

// addrKey is an IPv4 address as it is (IPv4-mapped IPv6 unmapped), and an
// IPv6 address as its /64 prefix.
func addrKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(ipv6ClientBits)
	return p.String()
}

// ClientAddr is the key an HTTP client of the server's (a WHIP or WHEP
// peer) counts against for the per-address limit, as a socket from the
// same address would: r's remote address, or with hops trusted reverse
// proxies the address they put in X-Forwarded-For (see clientAddr).
func ClientAddr(remote string, xff []string, hops int) string { return clientAddr(remote, xff, hops) }
