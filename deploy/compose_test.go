package deploy

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const composeFile = "../docker-compose.yml"

// compose is the part of docker-compose.yml the tests read. Strings are as
// written, before ${VAR} interpolation.
type compose struct {
	Services map[string]service `yaml:"services"`
}

type service struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	NetworkMode string            `yaml:"network_mode"`
}

func loadCompose(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	for _, name := range []string{"redis", "node1", "node2", "proxy", "coturn"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("%s has no service %q", composeFile, name)
		}
	}
	return c
}

// varRef matches compose's ${NAME}, ${NAME:-default}, ${NAME-default},
// ${NAME:?message} and ${NAME?message}.
var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate substitutes variables as docker-compose does: an unset or
// (with ':') empty variable takes its default, or is an error for '?'.
func interpolate(s string, env map[string]string) (string, error) {
	var errs []string
	out := varRef.ReplaceAllStringFunc(strings.ReplaceAll(s, "$$", "\x00"), func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		v, set := env[m[1]]
		missing := !set || (strings.HasPrefix(m[2], ":") && v == "")
		switch {
		case !missing:
			return v
		case strings.HasSuffix(m[2], "-"):
			return m[3]
		case strings.HasSuffix(m[2], "?"):
			errs = append(errs, fmt.Sprintf("%s: %s", m[1], m[3]))
		}
		return ""
	})
	if len(errs) > 0 {
		return "", fmt.Errorf("required variables missing: %s", strings.Join(errs, "; "))
	}
	return strings.ReplaceAll(out, "\x00", "$"), nil
}

// secrets are the variables that must be set: no default may stand in for
// them.
var secrets = []string{"TURN_SECRET", "REDIS_PASSWORD"}

// required are the variables without which compose must refuse the file:
// the secrets, and the relays' public address (a guess would announce an
// address browsers cannot reach).
var required = append(slices.Clone(secrets), "RELAY_PUBLIC_IP")

// testEnv is an environment with every required variable set.
var testEnv = map[string]string{"TURN_SECRET": "turn-s3cret", "REDIS_PASSWORD": "redis-pa55", "RELAY_PUBLIC_IP": "198.51.100.7"}

func mustInterpolate(t *testing.T, s string) string {
	t.Helper()
	v, err := interpolate(s, testEnv)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

func TestInterpolate(t *testing.T) {
	env := map[string]string{"SET": "v", "EMPTY": ""}
	for in, want := range map[string]string{
		"a${SET}b": "avb", "${SET:-d}": "v", "${EMPTY:-d}": "d", "${EMPTY-d}": "", "${UNSET-d}": "d",
		"${SET:?m}": "v", "$${SET}": "${SET}",
	} {
		if got, err := interpolate(in, env); err != nil || got != want {
			t.Errorf("interpolate(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"${UNSET:?m}", "${EMPTY:?m}", "${UNSET?m}"} {
		if _, err := interpolate(in, env); err == nil {
			t.Errorf("interpolate(%q): no error", in)
		}
	}
}

// TestSecretsHaveNoDefault: every use of a secret is ${NAME:?...}, so
// `docker compose up` refuses to start without it (set, and not empty)
// instead of running with a secret anyone can read in this repository.
func TestSecretsHaveNoDefault(t *testing.T) {
	b, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	uses := map[string]int{}
	for _, m := range varRef.FindAllStringSubmatch(string(b), -1) {
		if !slices.Contains(secrets, m[1]) {
			continue
		}
		uses[m[1]]++
		if m[2] != ":?" {
			t.Errorf("%s: want ${%s:?message} (required, not empty), got %s", composeFile, m[1], m[0])
		}
	}
	for _, name := range secrets {
		if uses[name] == 0 {
			t.Errorf("%s never uses %s", composeFile, name)
		}
	}
	if strings.Contains(string(b), "change-this-secret") {
		t.Errorf("%s still holds the old default secret", composeFile)
	}

	c := loadCompose(t)
	for _, name := range []string{"node1", "node2"} {
		env := c.Services[name].Environment
		if got := mustInterpolate(t, env["BROADCAST_TURN_SECRET"]); got != testEnv["TURN_SECRET"] {
			t.Errorf("%s: BROADCAST_TURN_SECRET = %q, want $TURN_SECRET", name, got)
		}
		for _, secret := range secrets {
			if _, err := interpolate(env["BROADCAST_TURN_SECRET"]+env["BROADCAST_REDIS"], without(testEnv, secret)); err == nil {
				t.Errorf("%s starts without %s", name, secret)
			}
		}
	}
	turn := flagValues(coturnCommand(t, c), "--static-auth-secret")
	if len(turn) != 1 || turn[0] != testEnv["TURN_SECRET"] {
		t.Errorf("coturn --static-auth-secret = %q, want $TURN_SECRET", turn)
	}
}

func without(env map[string]string, key string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// coturnCommand is coturn's command line with testEnv's secrets.
func coturnCommand(t *testing.T, c compose) []string {
	t.Helper()
	var args []string
	for _, a := range c.Services["coturn"].Command {
		args = append(args, mustInterpolate(t, a))
	}
	return args
}

// flagValues returns the values of every --name=value in args.
func flagValues(args []string, name string) []string {
	var vs []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// mustDeny are the peers a TURN relay on the host's network must never
// reach: this host, its private networks, and other special-purpose ranges.
var mustDeny = []string{
	"0.0.0.0/8",      // "this" network
	"10.0.0.0/8",     // private
	"100.64.0.0/10",  // carrier-grade NAT
	"127.0.0.0/8",    // loopback
	"169.254.0.0/16", // link-local, cloud metadata services
	"172.16.0.0/12",  // private
	"192.0.0.0/24",   // IETF protocol assignments
	"192.168.0.0/16", // private
	"198.18.0.0/15",  // benchmarking
	"240.0.0.0/4",    // reserved, and broadcast
	"::1/128",        // loopback
	"::ffff:0:0/96",  // IPv4-mapped: the IPv4 ranges again
	"64:ff9b::/96",   // NAT64: the IPv4 ranges again
	"fc00::/7",       // unique local
	"fe80::/10",      // link-local
}

// ipRange is an inclusive range of addresses, coturn's denied-peer-ip.
type ipRange struct{ first, last netip.Addr }

// parseRange reads coturn 4.6's "first-last" or a single address; coturn
// rejects CIDR ("Wrong address format") and would then deny nothing.
func parseRange(s string) (ipRange, error) {
	firstText, lastText, isRange := strings.Cut(s, "-")
	if !isRange {
		lastText = firstText
	}
	first, err := netip.ParseAddr(firstText)
	if err != nil {
		return ipRange{}, err
	}
	last, err := netip.ParseAddr(lastText)
	if err != nil {
		return ipRange{}, err
	}
	if first.Is4() != last.Is4() || last.Less(first) {
		return ipRange{}, fmt.Errorf("%s is not a range", s)
	}
	return ipRange{first, last}, nil
}

func (r ipRange) covers(p netip.Prefix) bool {
	first := p.Masked().Addr()
	last := first
	for i := p.Bits(); i < first.BitLen(); i++ {
		last = setBit(last, i)
	}
	return first.Is4() == r.first.Is4() && !first.Less(r.first) && !r.last.Less(last)
}

// setBit sets bit i (0 the most significant) of a.
func setBit(a netip.Addr, i int) netip.Addr {
	b := a.AsSlice()
	b[i/8] |= 0x80 >> (i % 8)
	out, _ := netip.AddrFromSlice(b)
	return out
}

func TestCoturnDeniesPrivatePeers(t *testing.T) {
	c := loadCompose(t)
	args := coturnCommand(t, c)
	var ranges []ipRange
	for _, v := range flagValues(args, "--denied-peer-ip") {
		r, err := parseRange(v)
		if err != nil {
			t.Errorf("--denied-peer-ip=%s: %v (coturn 4.6 takes first-last ranges, not CIDR)", v, err)
			continue
		}
		ranges = append(ranges, r)
	}
	for _, p := range mustDeny {
		prefix := netip.MustParsePrefix(p)
		if !slices.ContainsFunc(ranges, func(r ipRange) bool { return r.covers(prefix) }) {
			t.Errorf("coturn relays to %s: no --denied-peer-ip covers it", p)
		}
	}
	for _, want := range []string{"--no-tcp-relay", "--no-multicast-peers", "--use-auth-secret", "-n"} {
		if !slices.Contains(args, want) {
			t.Errorf("coturn command has no %s", want)
		}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--allow-loopback-peers") || strings.HasPrefix(a, "--allowed-peer-ip") {
			t.Errorf("coturn command has %s", a)
		}
	}
	if c.Services["coturn"].NetworkMode != "host" {
		t.Errorf("coturn network_mode = %q: the checks assume host (the case that needs them most)", c.Services["coturn"].NetworkMode)
	}
}

func TestCovers(t *testing.T) {
	r, err := parseRange("10.0.0.0-10.255.255.255")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{"10.0.0.0/8": true, "10.1.0.0/16": true, "10.0.0.0/7": false, "11.0.0.0/8": false, "::a00:0/104": false} {
		if got := r.covers(netip.MustParsePrefix(p)); got != want {
			t.Errorf("%v covers %s = %v, want %v", r, p, got, want)
		}
	}
	if _, err := parseRange("10.0.0.0/8"); err == nil {
		t.Error("a CIDR parsed as a range")
	}
}

// TestRedisPassword: Redis requires $REDIS_PASSWORD, and the nodes reach it
// with that password in their -redis URL.
func TestRedisPassword(t *testing.T) {
	c := loadCompose(t)
	var cmd []string
	for _, a := range c.Services["redis"].Command {
		cmd = append(cmd, mustInterpolate(t, a))
	}
	i := slices.Index(cmd, "--requirepass")
	if i < 0 || i+1 >= len(cmd) || cmd[i+1] != testEnv["REDIS_PASSWORD"] {
		t.Errorf("redis command %q: want --requirepass $REDIS_PASSWORD", cmd)
	}
	if got := mustInterpolate(t, c.Services["redis"].Environment["REDISCLI_AUTH"]); got != testEnv["REDIS_PASSWORD"] {
		t.Errorf("redis REDISCLI_AUTH (for the health check) = %q, want $REDIS_PASSWORD", got)
	}
	if len(c.Services["redis"].Ports) > 0 {
		t.Errorf("redis publishes ports %q", c.Services["redis"].Ports)
	}
	for _, name := range []string{"node1", "node2"} {
		raw := mustInterpolate(t, c.Services[name].Environment["BROADCAST_REDIS"])
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("%s: BROADCAST_REDIS: %v", name, err)
			continue
		}
		if pw, ok := u.User.Password(); u.Scheme != "redis" || u.Host != "redis:6379" || !ok || pw != testEnv["REDIS_PASSWORD"] {
			t.Errorf("%s: BROADCAST_REDIS = %s, want redis://:$REDIS_PASSWORD@redis:6379/...", name, u.Redacted())
		}
	}
}

// TestMetricsOffTheProxy: the nodes serve /metrics on a port of their own,
// which Caddy never proxies to and no service publishes: the metrics name
// rooms.
func TestMetricsOffTheProxy(t *testing.T) {
	c := loadCompose(t)
	b, err := os.ReadFile("Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	var upstreams []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "reverse_proxy" {
			upstreams = append(upstreams, slices.DeleteFunc(f[1:], func(s string) bool { return s == "{" })...)
		}
	}
	if len(upstreams) == 0 {
		t.Fatal("Caddyfile has no reverse_proxy upstreams")
	}
	for _, name := range []string{"node1", "node2"} {
		s := c.Services[name]
		_, public, _ := strings.Cut(mustInterpolate(t, s.Environment["BROADCAST_ADDR"]), ":")
		_, metrics, ok := strings.Cut(mustInterpolate(t, s.Environment["BROADCAST_METRICS_ADDR"]), ":")
		if !ok || metrics == "" || metrics == public {
			t.Errorf("%s: BROADCAST_METRICS_ADDR %q must be a port apart from BROADCAST_ADDR %q", name, s.Environment["BROADCAST_METRICS_ADDR"], s.Environment["BROADCAST_ADDR"])
		}
		if !slices.Contains(upstreams, name+":"+public) {
			t.Errorf("Caddy does not proxy to %s:%s", name, public)
		}
		if slices.Contains(upstreams, name+":"+metrics) {
			t.Errorf("Caddy proxies to %s's metrics port %s", name, metrics)
		}
		for _, p := range s.Ports {
			if pub, err := parsePort(mustInterpolate(t, p)); err != nil || pub.protocol != "udp" {
				t.Errorf("%s publishes %q: only its relay's UDP port may be", name, p)
			}
		}
	}
	for _, u := range upstreams {
		if !strings.HasPrefix(u, "node") {
			t.Errorf("Caddy proxies to %s", u)
		}
	}
}

// publishedPort is a port in compose's short syntax,
// [ip:]published:target[/protocol].
type publishedPort struct {
	published, target int
	protocol          string
}

func parsePort(s string) (publishedPort, error) {
	spec, protocol, ok := strings.Cut(s, "/")
	if !ok {
		protocol = "tcp"
	}
	parts := strings.Split(spec, ":")
	if len(parts) < 2 {
		return publishedPort{}, fmt.Errorf("%q: want published:target", s)
	}
	published, err1 := strconv.Atoi(parts[len(parts)-2])
	target, err2 := strconv.Atoi(parts[len(parts)-1])
	if err := errors.Join(err1, err2); err != nil {
		return publishedPort{}, fmt.Errorf("%q: %w", s, err)
	}
	return publishedPort{published, target, protocol}, nil
}

// coturnPorts are coturn's own ports on the host's network: its listening
// port and its relay range.
func coturnPorts(t *testing.T, c compose) (listen, minPort, maxPort int) {
	t.Helper()
	args := coturnCommand(t, c)
	for name, dst := range map[string]*int{"--listening-port": &listen, "--min-port": &minPort, "--max-port": &maxPort} {
		vs := flagValues(args, name)
		if len(vs) != 1 {
			t.Fatalf("coturn command has %s %q, want one", name, vs)
		}
		n, err := strconv.Atoi(vs[0])
		if err != nil {
			t.Fatalf("coturn %s=%s: %v", name, vs[0], err)
		}
		*dst = n
	}
	return listen, minPort, maxPort
}

// TestRelayMediaReachable: each node's relay listens on a fixed UDP port
// (BROADCAST_RELAY_UDP_PORT), published as UDP on the same host port (its
// ICE candidates announce the port it listens on), a port apart from the
// other node's and from coturn's; and it announces $RELAY_PUBLIC_IP, which
// compose requires.
func TestRelayMediaReachable(t *testing.T) {
	c := loadCompose(t)
	listen, minPort, maxPort := coturnPorts(t, c)
	used := map[int]string{}
	for _, name := range []string{"node1", "node2"} {
		s := c.Services[name]
		raw, ok := s.Environment["BROADCAST_RELAY_UDP_PORT"]
		if !ok {
			t.Errorf("%s: no BROADCAST_RELAY_UDP_PORT: its relay would take an ephemeral port per watcher, which no rule publishes", name)
			continue
		}
		port, err := strconv.Atoi(mustInterpolate(t, raw))
		if err != nil || port < 1 || port > 65535 {
			t.Errorf("%s: BROADCAST_RELAY_UDP_PORT = %q, want a port from 1 to 65535", name, raw)
			continue
		}
		if other, dup := used[port]; dup {
			t.Errorf("%s and %s share relay UDP port %d: both publish it on the host", other, name, port)
		}
		used[port] = name
		if port == listen || (port >= minPort && port <= maxPort) {
			t.Errorf("%s: relay UDP port %d is coturn's (%d, %d-%d on the host's network)", name, port, listen, minPort, maxPort)
		}
		var published bool
		for _, p := range s.Ports {
			pp, err := parsePort(mustInterpolate(t, p))
			if err != nil {
				t.Errorf("%s: ports: %v", name, err)
				continue
			}
			if pp.target == port && pp.protocol == "udp" {
				published = true
				if pp.published != port {
					t.Errorf("%s publishes relay UDP port %d as %d: the candidates announce %d", name, port, pp.published, port)
				}
			}
		}
		if !published {
			t.Errorf("%s does not publish its relay UDP port: want %q in its ports, got %q", name, fmt.Sprintf("%d:%d/udp", port, port), s.Ports)
		}

		ip := s.Environment["BROADCAST_RELAY_PUBLIC_IP"]
		if got := mustInterpolate(t, ip); got != testEnv["RELAY_PUBLIC_IP"] {
			t.Errorf("%s: BROADCAST_RELAY_PUBLIC_IP = %q, want $RELAY_PUBLIC_IP", name, got)
		}
		if _, err := interpolate(ip, without(testEnv, "RELAY_PUBLIC_IP")); err == nil {
			t.Errorf("%s starts without RELAY_PUBLIC_IP (BROADCAST_RELAY_PUBLIC_IP = %q)", name, ip)
		}
		if mode, set := s.Environment["BROADCAST_RELAY"]; set && mustInterpolate(t, mode) == "off" {
			t.Errorf("%s runs with -relay off", name)
		}
	}
}

func TestParsePort(t *testing.T) {
	for in, want := range map[string]publishedPort{
		"50000:50000/udp": {50000, 50000, "udp"}, "8080:80": {8080, 80, "tcp"}, "127.0.0.1:1:2/udp": {1, 2, "udp"},
	} {
		if got, err := parsePort(in); err != nil || got != want {
			t.Errorf("parsePort(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"80", "a:80", "80:b/udp"} {
		if _, err := parsePort(in); err == nil {
			t.Errorf("parsePort(%q): no error", in)
		}
	}
}
