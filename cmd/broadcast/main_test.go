package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
	"github.com/broadcast-service/broadcast/static"
)

func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) == "1" {
		main() // a node process of a multi-node test (see startNode)
		return
	}
	goleak.VerifyTestMain(m)
}

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestServeConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(serveConfig) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c serveConfig) bool {
			return c.Addr == ":8080" && c.MetricsAddr == "127.0.0.1:9090" && c.MaxWatchers == 10 && c.OfferTimeout == protocol.OfferTimeout && len(c.ICEServers) == 0 && c.ICEServers != nil
		}, ""},
		{"metrics off", []string{"-metrics-addr", "off"}, nil, func(c serveConfig) bool { return c.MetricsAddr == "" }, ""},
		{"metrics empty", []string{"-metrics-addr", ""}, map[string]string{"BROADCAST_METRICS_ADDR": ":9100"}, func(c serveConfig) bool { return c.MetricsAddr == "" }, ""},
		{"metrics env", nil, map[string]string{"BROADCAST_METRICS_ADDR": ":9100"}, func(c serveConfig) bool { return c.MetricsAddr == ":9100" }, ""},
		{"metrics env off", nil, map[string]string{"BROADCAST_METRICS_ADDR": "off"}, func(c serveConfig) bool { return c.MetricsAddr == "" }, ""},
		{"env fallback", nil, map[string]string{"BROADCAST_ADDR": "127.0.0.1:9000", "BROADCAST_MAX_WATCHERS": "3"}, func(c serveConfig) bool {
			return c.Addr == "127.0.0.1:9000" && c.MaxWatchers == 3
		}, ""},
		{"flag beats env", []string{"-max-watchers", "2"}, map[string]string{"BROADCAST_MAX_WATCHERS": "3"}, func(c serveConfig) bool {
			return c.MaxWatchers == 2
		}, ""},
		{"ice urls", []string{"-ice-servers", "stun:stun.example.org:3478, turn:turn.example.org"}, nil, func(c serveConfig) bool {
			return len(c.ICEServers) == 2 && c.ICEServers[1].URLs[0] == "turn:turn.example.org"
		}, ""},
		{"ice json", []string{"-ice-servers", `[{"urls":["turn:t.example.org"],"username":"u","credential":"p"}]`}, nil, func(c serveConfig) bool {
			return len(c.ICEServers) == 1 && c.ICEServers[0].Username == "u"
		}, ""},
		{"origins", []string{"-allowed-origins", "https://a.example, https://b.example"}, nil, func(c serveConfig) bool {
			return len(c.AllowedOrigins) == 2 && c.AllowedOrigins[1] == "https://b.example"
		}, ""},
		{"relay defaults", nil, nil, func(c serveConfig) bool {
			r := c.Relay
			return r.Mode == signaling.RelayAuto && r.MaxWatchers == 200 && r.MaxRooms == 100 && r.UDPPort == 0 && r.PublicIP == "" && len(r.Secret) == 43
		}, ""},
		{"relay flags", []string{"-relay", "always", "-relay-max-watchers", "50", "-relay-max-rooms", "3", "-relay-udp-port", "50000", "-relay-public-ip", "203.0.113.7"}, nil, func(c serveConfig) bool {
			r := c.Relay
			return r.Mode == signaling.RelayAlways && r.MaxWatchers == 50 && r.MaxRooms == 3 && r.UDPPort == 50000 && r.PublicIP == "203.0.113.7"
		}, ""},
		{"relay env", nil, map[string]string{"BROADCAST_RELAY": "off", "BROADCAST_RELAY_MAX_WATCHERS": "7", "BROADCAST_RELAY_MAX_ROOMS": "9", "BROADCAST_RELAY_UDP_PORT": "3479", "BROADCAST_RELAY_PUBLIC_IP": "2001:db8::1"}, func(c serveConfig) bool {
			r := c.Relay
			return r.Mode == signaling.RelayOff && r.MaxWatchers == 7 && r.MaxRooms == 9 && r.UDPPort == 3479 && r.PublicIP == "2001:db8::1"
		}, ""},
		{"bad relay mode", []string{"-relay", "on"}, nil, nil, "-relay"},
		{"zero relay watchers", []string{"-relay-max-watchers", "0"}, nil, nil, "-relay-max-watchers"},
		{"bad relay port", nil, map[string]string{"BROADCAST_RELAY_UDP_PORT": "65536"}, nil, "-relay-udp-port"},
		{"bad relay ip", []string{"-relay-public-ip", "relay.example.org"}, nil, nil, "-relay-public-ip"},
		{"zero watchers", []string{"-max-watchers", "0"}, nil, nil, "-max-watchers"},
		{"bad env number", nil, map[string]string{"BROADCAST_MAX_WATCHERS": "ten"}, nil, "-max-watchers"},
		{"bad ice url", []string{"-ice-servers", "http://x"}, nil, nil, "not a stun:"},
		{"bad ice json", []string{"-ice-servers", "[{"}, nil, nil, "JSON array"},
		{"bad duration", []string{"-shutdown-timeout", "soon"}, nil, nil, "-shutdown-timeout"},
		{"bad level", []string{"-log-level", "loud"}, nil, nil, "-log-level"},
		{"stray argument", []string{"extra"}, nil, nil, "unexpected arguments"},
		{"limits", []string{"-rate", "5", "-rate-burst", "9", "-max-message-bytes", "2048", "-max-room-sockets", "20", "-max-addr-sockets", "3", "-max-sockets", "100"}, nil, func(c serveConfig) bool {
			l := c.Limits
			return l.MessagesPerSecond == 5 && l.MessageBurst == 9 && l.MessageBytes == 2048 && l.RoomSockets == 20 && l.AddrSockets == 3 && l.Sockets == 100
		}, ""},
		{"keyed and private from env", nil, map[string]string{"BROADCAST_TALK_SECRET": "s3cret", "BROADCAST_PRIVATE_ROOMS": "true"}, func(c serveConfig) bool {
			return c.TalkSecret == "s3cret" && c.PrivateRooms
		}, ""},
		{"turn", []string{"-turn-urls", "turn:127.0.0.1:3478", "-turn-secret", "x", "-turn-ttl", "10m"}, nil, func(c serveConfig) bool {
			return c.TURN.URLs[0] == "turn:127.0.0.1:3478" && string(c.TURN.Secret) == "x" && c.TURN.TTL == 10*time.Minute
		}, ""},
		{"private without secret", []string{"-private-rooms"}, nil, nil, "needs -talk-secret"},
		{"private not a bool", []string{"-private-rooms=maybe"}, nil, nil, "invalid boolean"},
		{"private env not a bool", nil, map[string]string{"BROADCAST_PRIVATE_ROOMS": "maybe"}, nil, "want true or false"},
		{"turn without secret", []string{"-turn-urls", "turn:x"}, nil, nil, "go together"},
		{"turn url scheme", []string{"-turn-urls", "stun:x", "-turn-secret", "s"}, nil, nil, "not a turn:"},
		{"tls cert without key", []string{"-tls-cert", "c.pem"}, nil, nil, "go together"},
		{"rate zero", []string{"-rate", "0"}, nil, nil, "-rate"},
		{"redis", nil, map[string]string{"BROADCAST_REDIS": "redis://:pw@127.0.0.1:6379/0", "BROADCAST_REDIS_NODE_TTL": "2s"}, func(c serveConfig) bool {
			return c.Redis == "redis://:pw@127.0.0.1:6379/0" && c.RedisNodeTTL == 2*time.Second
		}, ""},
		{"redis default ttl", nil, nil, func(c serveConfig) bool { return c.Redis == "" && c.RedisNodeTTL == 5*time.Second }, ""},
		{"trust proxy bare", []string{"-trust-proxy"}, nil, func(c serveConfig) bool { return c.TrustedProxies == 1 }, ""},
		{"trust proxy count", []string{"-trust-proxy=2"}, nil, func(c serveConfig) bool { return c.TrustedProxies == 2 }, ""},
		{"trust proxy env", nil, map[string]string{"BROADCAST_TRUST_PROXY": "true"}, func(c serveConfig) bool { return c.TrustedProxies == 1 }, ""},
		{"trust proxy off", []string{"-trust-proxy=false"}, map[string]string{"BROADCAST_TRUST_PROXY": "3"}, func(c serveConfig) bool { return c.TrustedProxies == 0 }, ""},
		{"trust proxy negative", []string{"-trust-proxy=-1"}, nil, nil, "number of proxies"},
		{"redis url scheme", []string{"-redis", "127.0.0.1:6379"}, nil, nil, "redis:// or rediss://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServeConfig(tt.args, env(tt.env), io.Discard)
			if tt.check == nil {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Errorf("config %+v", cfg)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"fly"}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "fly") {
		t.Fatalf("err = %v", err)
	}
}

// startServe runs the service on a loopback port (and its metrics on
// another) and returns its base URL and a stop function that asserts a
// clean shutdown.
func startServe(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	l, stop := startServeAddrs(t, args...)
	return "http://" + l.Addr.String(), stop
}

// startServeAddrs is startServe returning the addresses served.
func startServeAddrs(t *testing.T, args ...string) (listening, func()) {
	t.Helper()
	cfg, err := parseServeConfig(append([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0"}, args...), env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan listening, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, newLogger(io.Discard, 0), ready) }()
	var l listening
	select {
	case l = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after shutdown", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not return after shutdown")
		}
	}
	t.Cleanup(stop)
	return l, stop
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestServeEndpoints(t *testing.T) {
	base, _ := startServe(t, "-max-watchers", "4", "-direct-bitrate", "800000", "-offer-timeout", "2500ms", "-ice-servers", "stun:stun.example.org:3478")

	code, body, _ := get(t, base+"/healthz")
	if code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("/healthz = %d %s", code, body)
	}
	code, body, _ = get(t, base+"/readyz")
	if code != 200 || !strings.Contains(body, `"ready"`) {
		t.Errorf("/readyz = %d %s", code, body)
	}
	code, body, _ = get(t, base+"/config")
	var cfg struct {
		MaxWatchers          int `json:"maxWatchers"`
		DirectBitrate        int `json:"directBitrate"`
		OfferTimeoutMs       int `json:"offerTimeoutMs"`
		MaxPendingCandidates int `json:"maxPendingCandidates"`
		ICEServers           []struct {
			URLs []string `json:"urls"`
		} `json:"iceServers"`
	}
	if err := json.Unmarshal([]byte(body), &cfg); code != 200 || err != nil || cfg.MaxWatchers != 4 || cfg.DirectBitrate != 800_000 || cfg.OfferTimeoutMs != 2500 ||
		cfg.MaxPendingCandidates != protocol.MaxPendingCandidates || cfg.ICEServers[0].URLs[0] != "stun:stun.example.org:3478" {
		t.Errorf("/config = %d %s (%v)", code, body, err)
	}
	var timing map[string]any
	if err := json.Unmarshal([]byte(body), &timing); err != nil {
		t.Fatalf("/config = %s: %v", body, err)
	}
	for name, want := range map[string]time.Duration{
		"resumeGraceMs": protocol.ResumeGrace, "retryMs": protocol.RetryInterval,
		"reportMs": protocol.ReportInterval, "retakeMs": protocol.RetakeWindow,
	} {
		if got, ok := timing[name].(float64); !ok || got != float64(want.Milliseconds()) {
			t.Errorf("/config %s = %v, want %d", name, timing[name], want.Milliseconds())
		}
	}
	var words struct {
		Protocol protocol.Words `json:"protocol"`
	}
	if err := json.Unmarshal([]byte(body), &words); err != nil || !reflect.DeepEqual(words.Protocol, protocol.Vocabulary()) {
		t.Errorf("/config protocol = %+v (%v), want %+v", words.Protocol, err, protocol.Vocabulary())
	}
	pages := map[string]string{
		"/":                       `formaction="talk.html"`,
		"/talk.html":              `id="viewer-count"`,
		"/watch.html":             `id="remote-video" autoplay muted playsinline`,
		"/talk.js":                "getUserMedia",
		"/watch.js":               "remote-video",
		"/common.js":              "loadConfig",
		"/" + static.ClientScript: "Socket.IO v2.",
	}
	for path, want := range pages {
		code, body, _ := get(t, base+path)
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("%s = %d, want 200 containing %q", path, code, want)
		}
	}
	if code, _, _ := get(t, base+"/socket.io/?EIO=3&transport=polling"); code != http.StatusBadRequest {
		t.Errorf("long-polling = %d, want 400: only WebSocket is served", code)
	}
}

func TestGracefulShutdownClosesSockets(t *testing.T) {
	base, stop := startServe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Emit("enter", "r"); err != nil {
		t.Fatal(err)
	}
	stop()
	for open := true; open; {
		select {
		case _, open = <-c.Events(): // the entered reply, then the close
		case <-ctx.Done():
			t.Fatal("socket still open after shutdown")
		}
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still serving HTTP after shutdown")
	}
}

func TestListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = run(context.Background(), []string{"-addr", ln.Addr().String()}, env(nil), io.Discard, io.Discard)
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("err = %v, want the listen error at once", err)
	}
}

// TestMetricsApart: /metrics is served on -metrics-addr only, never on the
// public address (its room labels name rooms).
func TestMetricsApart(t *testing.T) {
	l, stop := startServeAddrs(t)
	if l.Metrics == nil || l.Metrics.String() == l.Addr.String() {
		t.Fatalf("metrics on %v, public on %v", l.Metrics, l.Addr)
	}
	code, body, _ := get(t, "http://"+l.Metrics.String()+"/metrics")
	if code != 200 || !strings.Contains(body, "broadcast_sockets 0") || !strings.Contains(body, "process_resident_memory_bytes") {
		t.Errorf("metrics address /metrics = %d %.300s", code, body)
	}
	if code, body, _ := get(t, "http://"+l.Addr.String()+"/metrics"); code != http.StatusNotFound || strings.Contains(body, "broadcast_") {
		t.Errorf("public /metrics = %d %.300s, want 404", code, body)
	}
	if code, _, _ := get(t, "http://"+l.Metrics.String()+"/talk.html"); code != http.StatusNotFound {
		t.Errorf("metrics address /talk.html = %d, want 404: it serves /metrics only", code)
	}
	stop()
	if _, err := http.Get("http://" + l.Metrics.String() + "/metrics"); err == nil {
		t.Error("still serving metrics after shutdown")
	}
}

func TestMetricsOff(t *testing.T) {
	for _, off := range []string{"off", ""} {
		l, _ := startServeAddrs(t, "-metrics-addr", off)
		if l.Metrics != nil {
			t.Errorf("-metrics-addr %q: metrics on %v", off, l.Metrics)
		}
		if code, _, _ := get(t, "http://"+l.Addr.String()+"/metrics"); code != http.StatusNotFound {
			t.Errorf("-metrics-addr %q: public /metrics = %d, want 404", off, code)
		}
	}
}

func TestMetricsListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, addr := range []string{ln.Addr().String(), "127.0.0.1:99999", "no-such-host.invalid:9090"} {
		err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-metrics-addr", addr}, env(nil), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-metrics-addr") {
			t.Errorf("-metrics-addr %s: err = %v, want the listen error at once", addr, err)
		}
	}
}
