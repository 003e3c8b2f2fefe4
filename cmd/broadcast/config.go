package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/broadcast-service/broadcast/cluster"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// serveConfig is the service's configuration, from flags with environment
// fallbacks.
type serveConfig struct {
	Addr            string
	MetricsAddr     string // "" serves no metrics
	Pprof           bool   // /debug/pprof/ on MetricsAddr too
	MaxWatchers     int
	DirectBitrate   int           // bits/s talk.html sends each direct watcher at most
	OfferTimeout    time.Duration // the pages' talker drops a watcher that has not answered its offer within it
	AllowedOrigins  []string
	ICEServers      []protocol.ICEServer
	QueueBytes      int
	ShutdownTimeout time.Duration
	LogLevel        slog.Level
	TalkSecret      string // never logged
	PrivateRooms    bool
	Limits          signaling.Limits
	TrustedProxies  int
	TURN            signaling.TURN
	TLSCert         string
	TLSKey          string
	Redis           string // may hold a password: never logged
	RedisNodeTTL    time.Duration
	Relay           relayConfig
	RecordDir       string // "" records nothing
}

// flags is a FlagSet whose flags fall back to environment variables.
type flags struct {
	*flag.FlagSet
	getenv func(string) string
	parse  []func() error // conversions run after Parse
}

func newFlags(name string, getenv func(string) string, out io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return &flags{FlagSet: fs, getenv: getenv}
}

func (f *flags) str(name, env, def, usage string) *string {
	if v := f.getenv(env); v != "" {
		def = v
	}
	return f.String(name, def, usage+" (env "+env+")")
}

// typed registers a flag whose text is converted by conv after Parse.
func typed[T any](f *flags, name, env, def, usage string, conv func(string) (T, error)) *T {
	s := f.str(name, env, def, usage)
	v := new(T)
	f.parse = append(f.parse, func() error {
		var err error
		if *v, err = conv(*s); err != nil {
			return fmt.Errorf("-%s %q: %w", name, *s, err)
		}
		return nil
	})
	return v
}

// boolean registers a flag that is set bare (-name) or from env ("true",
// "false", "1", "0").
func (f *flags) boolean(name, env, usage string) *bool {
	def := false
	if v := f.getenv(env); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.parse = append(f.parse, func() error { return fmt.Errorf("%s=%q: want true or false", env, v) })
		}
		def = b
	}
	return f.Bool(name, def, usage+" (env "+env+")")
}

// hops is a count that also reads as a boolean flag: a bare -name or
// "true" is 1, "false" is 0.
type hops int

func (h *hops) String() string { return strconv.Itoa(int(*h)) }

// IsBoolFlag lets the flag stand alone, as it did when it was a boolean.
func (h *hops) IsBoolFlag() bool { return true }

func (h *hops) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		b, berr := strconv.ParseBool(s)
		n, err = 0, berr
		if b {
			n = 1
		}
	}
	if err != nil || n < 0 {
		return errors.New("want true, false or a number of proxies")
	}
	*h = hops(n)
	return nil
}

// hops registers a count of trusted proxies (see type hops).
func (f *flags) hops(name, env, usage string) *hops {
	h := new(hops)
	if v := f.getenv(env); v != "" {
		if err := h.Set(v); err != nil {
			f.parse = append(f.parse, func() error { return fmt.Errorf("%s=%q: %w", env, v, err) })
		}
	}
	f.Var(h, name, usage+" (env "+env+")")
	return h
}

func (f *flags) parseArgs(args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", f.Args())
	}
	var errs []error
	for _, p := range f.parse {
		errs = append(errs, p())
	}
	return errors.Join(errs...)
}

func atLeast(min int) func(string) (int, error) {
	return func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n < min {
			return 0, fmt.Errorf("want a whole number of at least %d", min)
		}
		return n, nil
	}
}

func positiveFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		return 0, errors.New("want a positive number")
	}
	return v, nil
}

func duration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("want a positive duration such as 10s")
	}
	return d, nil
}

func list(s string) ([]string, error) {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out, nil
}

func parseServeConfig(args []string, getenv func(string) string, out io.Writer) (serveConfig, error) {
	f := newFlags("broadcast serve", getenv, out)
	addr := f.str("addr", "BROADCAST_ADDR", ":8080", "listen address")
	metricsAddr := f.str("metrics-addr", "BROADCAST_METRICS_ADDR", "127.0.0.1:9090", "listen address of /metrics (Prometheus), apart from -addr; empty or off serves no metrics")
	pprof := f.boolean("pprof", "BROADCAST_PPROF", "serve Go's profiles (/debug/pprof/) on -metrics-addr too")
	maxWatchers := typed(f, "max-watchers", "BROADCAST_MAX_WATCHERS", "10", "watchers a talker serves before answering talk_reject {reason: \"full\"}", atLeast(1))
	directBitrate := typed(f, "direct-bitrate", "BROADCAST_DIRECT_BITRATE", strconv.Itoa(protocol.DirectBitrate), "bits/s talk.html sends each watcher it serves itself, at most; it serves no more than its measured uplink carries at what each is sent", atLeast(50_000))
	offerTimeout := typed(f, "offer-timeout", "BROADCAST_OFFER_TIMEOUT", protocol.OfferTimeout.String(), "how long talk.html waits for a watcher's answer to its offer before it drops the watcher and frees its place", duration)
	origins := typed(f, "allowed-origins", "BROADCAST_ALLOWED_ORIGINS", "", "comma-separated browser origins allowed besides the server's own; * allows any", list)
	ice := typed(f, "ice-servers", "BROADCAST_ICE_SERVERS", "", "ICE servers for the pages: comma-separated stun:/turn: URLs, or a JSON array of RTCIceServer", parseICEServers)
	queue := typed(f, "queue-bytes", "BROADCAST_QUEUE_BYTES", strconv.Itoa(signaling.DefaultQueueBytes), "per-socket outbound queue limit in bytes; a socket that falls further behind is dropped", atLeast(1024))
	drain := typed(f, "shutdown-timeout", "BROADCAST_SHUTDOWN_TIMEOUT", "10s", "how long a graceful shutdown may take", duration)
	level := typed(f, "log-level", "BROADCAST_LOG_LEVEL", "info", "debug, info, warn or error", func(s string) (slog.Level, error) {
		var l slog.Level
		if err := l.UnmarshalText([]byte(s)); err != nil {
			return l, errors.New("want debug, info, warn or error")
		}
		return l, nil
	})
	secret := f.str("talk-secret", "BROADCAST_TALK_SECRET", "", "secret for room keys; set, a talker needs its room's talk key (see `broadcast keys`)")
	private := f.boolean("private-rooms", "BROADCAST_PRIVATE_ROOMS", "with -talk-secret, every watcher needs a signed watch key")
	msgBytes := typed(f, "max-message-bytes", "BROADCAST_MAX_MESSAGE_BYTES", strconv.Itoa(signaling.DefaultMessageBytes), "largest message a socket may send, in bytes", atLeast(1024))
	rate := typed(f, "rate", "BROADCAST_RATE", strconv.Itoa(signaling.DefaultMessagesPerSecond), "messages per second a socket may send, on average", positiveFloat)
	burst := typed(f, "rate-burst", "BROADCAST_RATE_BURST", strconv.Itoa(signaling.DefaultMessageBurst), "messages a socket may send at once beyond the rate", atLeast(1))
	roomSockets := typed(f, "max-room-sockets", "BROADCAST_MAX_ROOM_SOCKETS", strconv.Itoa(signaling.DefaultRoomSockets), "sockets in one room", atLeast(2))
	addrSockets := typed(f, "max-addr-sockets", "BROADCAST_MAX_ADDR_SOCKETS", strconv.Itoa(signaling.DefaultAddrSockets), "sockets from one remote address", atLeast(1))
	sockets := typed(f, "max-sockets", "BROADCAST_MAX_SOCKETS", strconv.Itoa(signaling.DefaultSockets), "sockets in all", atLeast(1))
	trustProxy := f.hops("trust-proxy", "BROADCAST_TRUST_PROXY", "reverse proxies in front that append to X-Forwarded-For; a socket's address is the entry the outermost appended (true means 1)")
	turnURLs := typed(f, "turn-urls", "BROADCAST_TURN_URLS", "", "comma-separated turn:/turns: URLs of a TURN server sharing -turn-secret", list)
	turnSecret := f.str("turn-secret", "BROADCAST_TURN_SECRET", "", "the TURN server's static-auth-secret (coturn use-auth-secret)")
	turnTTL := typed(f, "turn-ttl", "BROADCAST_TURN_TTL", "1h", "how long TURN credentials last", duration)
	tlsCert := f.str("tls-cert", "BROADCAST_TLS_CERT", "", "PEM certificate file: serve HTTPS and WSS")
	tlsKey := f.str("tls-key", "BROADCAST_TLS_KEY", "", "PEM private key file for -tls-cert")
	redisURL := f.str("redis", "BROADCAST_REDIS", "", "redis://[user:password@]host:port/db: share rooms with the other nodes using this Redis")
	redisTTL := typed(f, "redis-node-ttl", "BROADCAST_REDIS_NODE_TTL", cluster.DefaultTTL.String(), "how long a silent node counts as alive; its sockets are announced gone within 1.2× this", duration)
	relay := relayFlags(f)
	recordDir := f.str("record-dir", "BROADCAST_RECORD_DIR", "", "directory of the rooms' recordings (started per room from the talk page or PUT /rooms/{room}/recording); empty records nothing")
	if err := f.parseArgs(args); err != nil {
		return serveConfig{}, err
	}
	cfg := serveConfig{
		Addr: *addr, MetricsAddr: *metricsAddr, Pprof: *pprof, MaxWatchers: *maxWatchers, DirectBitrate: *directBitrate, OfferTimeout: *offerTimeout, AllowedOrigins: *origins, ICEServers: *ice,
		QueueBytes: *queue, ShutdownTimeout: *drain, LogLevel: *level,
		TalkSecret: *secret, PrivateRooms: *private, TrustedProxies: int(*trustProxy),
		Limits: signaling.Limits{
			MessageBytes: *msgBytes, MessagesPerSecond: *rate, MessageBurst: *burst,
			RoomSockets: *roomSockets, AddrSockets: *addrSockets, Sockets: *sockets,
		},
		TURN:    signaling.TURN{URLs: *turnURLs, Secret: []byte(*turnSecret), TTL: *turnTTL},
		TLSCert: *tlsCert, TLSKey: *tlsKey,
		Redis: *redisURL, RedisNodeTTL: *redisTTL,
		Relay: relay(), RecordDir: *recordDir,
	}
	if cfg.MetricsAddr == "off" {
		cfg.MetricsAddr = ""
	}
	switch {
	case cfg.PrivateRooms && cfg.TalkSecret == "":
		return cfg, errors.New("-private-rooms needs -talk-secret")
	case (len(cfg.TURN.URLs) > 0) != (len(cfg.TURN.Secret) > 0):
		return cfg, errors.New("-turn-urls and -turn-secret go together")
	case (cfg.TLSCert == "") != (cfg.TLSKey == ""):
		return cfg, errors.New("-tls-cert and -tls-key go together")
	case cfg.Redis != "" && !strings.HasPrefix(cfg.Redis, "redis://") && !strings.HasPrefix(cfg.Redis, "rediss://"):
		return cfg, errors.New("-redis: want a redis:// or rediss:// URL")
	}
	for _, u := range cfg.TURN.URLs {
		if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			return cfg, fmt.Errorf("-turn-urls: %q is not a turn: or turns: URL", u)
		}
	}
	return cfg, nil
}

// parseICEServers reads comma-separated URLs or a JSON array of RTCIceServer.
func parseICEServers(s string) ([]protocol.ICEServer, error) {
	s = strings.TrimSpace(s)
	servers := []protocol.ICEServer{}
	if s == "" {
		return servers, nil
	}
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &servers); err != nil {
			return nil, fmt.Errorf("not a JSON array of {urls, username, credential}: %w", err)
		}
	} else {
		urls, _ := list(s)
		for _, u := range urls {
			servers = append(servers, protocol.ICEServer{URLs: []string{u}})
		}
	}
	for _, srv := range servers {
		for _, u := range srv.URLs {
			if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
				return nil, fmt.Errorf("%q is not a stun:, turn: or turns: URL", u)
			}
		}
	}
	return servers, nil
}
