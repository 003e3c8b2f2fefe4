package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/broadcast-service/broadcast/signaling"
)

// serveConfig is the service's configuration, from flags with environment
// fallbacks.
type serveConfig struct {
	Addr            string
	MaxWatchers     int
	AllowedOrigins  []string
	ICEServers      []iceServer
	QueueBytes      int
	ShutdownTimeout time.Duration
	LogLevel        slog.Level
}

// iceServer is an RTCIceServer as the pages' RTCPeerConnection takes it.
type iceServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

func parseServeConfig(args []string, getenv func(string) string, out io.Writer) (serveConfig, error) {
	fs := flag.NewFlagSet("broadcast serve", flag.ContinueOnError)
	fs.SetOutput(out)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	addr := fs.String("addr", env("BROADCAST_ADDR", ":8080"), "listen address (env BROADCAST_ADDR)")
	maxWatchers := fs.String("max-watchers", env("BROADCAST_MAX_WATCHERS", "10"), "watchers a talker accepts before answering talk_reject {reason: \"full\"} (env BROADCAST_MAX_WATCHERS)")
	origins := fs.String("allowed-origins", env("BROADCAST_ALLOWED_ORIGINS", ""), "comma-separated browser origins allowed besides the server's own; * allows any (env BROADCAST_ALLOWED_ORIGINS)")
	ice := fs.String("ice-servers", env("BROADCAST_ICE_SERVERS", ""), "ICE servers for the pages: comma-separated stun:/turn: URLs, or a JSON array of RTCIceServer (env BROADCAST_ICE_SERVERS)")
	queue := fs.String("queue-bytes", env("BROADCAST_QUEUE_BYTES", strconv.Itoa(signaling.DefaultQueueBytes)), "per-socket outbound queue limit in bytes; a socket that falls further behind is dropped (env BROADCAST_QUEUE_BYTES)")
	drain := fs.String("shutdown-timeout", env("BROADCAST_SHUTDOWN_TIMEOUT", "10s"), "how long a graceful shutdown may take (env BROADCAST_SHUTDOWN_TIMEOUT)")
	level := fs.String("log-level", env("BROADCAST_LOG_LEVEL", "info"), "debug, info, warn or error (env BROADCAST_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return serveConfig{}, err
	}
	if fs.NArg() > 0 {
		return serveConfig{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	cfg := serveConfig{Addr: *addr}
	var err error
	if cfg.MaxWatchers, err = strconv.Atoi(*maxWatchers); err != nil || cfg.MaxWatchers < 1 {
		return cfg, fmt.Errorf("-max-watchers %q: want a whole number of at least 1", *maxWatchers)
	}
	if cfg.QueueBytes, err = strconv.Atoi(*queue); err != nil || cfg.QueueBytes < 1024 {
		return cfg, fmt.Errorf("-queue-bytes %q: want a whole number of at least 1024", *queue)
	}
	if cfg.ShutdownTimeout, err = time.ParseDuration(*drain); err != nil || cfg.ShutdownTimeout <= 0 {
		return cfg, fmt.Errorf("-shutdown-timeout %q: want a positive duration such as 10s", *drain)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return cfg, fmt.Errorf("-log-level %q: want debug, info, warn or error", *level)
	}
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
		}
	}
	if cfg.ICEServers, err = parseICEServers(*ice); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// parseICEServers reads comma-separated URLs or a JSON array of RTCIceServer.
func parseICEServers(s string) ([]iceServer, error) {
	s = strings.TrimSpace(s)
	servers := []iceServer{}
	if s == "" {
		return servers, nil
	}
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &servers); err != nil {
			return nil, fmt.Errorf("-ice-servers: not a JSON array of {urls, username, credential}: %w", err)
		}
	} else {
		for _, u := range strings.Split(s, ",") {
			if u = strings.TrimSpace(u); u != "" {
				servers = append(servers, iceServer{URLs: []string{u}})
			}
		}
	}
	for _, srv := range servers {
		for _, u := range srv.URLs {
			if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
				return nil, fmt.Errorf("-ice-servers: %q is not a stun:, turn: or turns: URL", u)
			}
		}
	}
	return servers, nil
}
