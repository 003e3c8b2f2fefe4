package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/broadcast-service/broadcast/cluster"
	"github.com/broadcast-service/broadcast/metrics"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
	"github.com/broadcast-service/broadcast/static"
)

// listening is where serve listens: the public address, and the metrics
// address (nil with -metrics-addr off).
type listening struct{ Addr, Metrics net.Addr }

// serve listens on cfg.Addr, and on cfg.MetricsAddr for /metrics, and
// serves until ctx ends, then drains. A listen error is returned at once.
// If ready is not nil it receives the listening addresses once serving.
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger, ready chan<- listening) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			_ = ln.Close()
			return fmt.Errorf("-metrics-addr: listen: %w", err)
		}
	}
	closeListeners := func() {
		_ = ln.Close()
		if metricsLn != nil {
			_ = metricsLn.Close()
		}
	}
	m := metrics.New()
	opts := hubOptions(cfg, log)
	opts.Observer = m
	relays, err := newRelays(cfg, ln.Addr(), log)
	if err != nil {
		closeListeners()
		return err
	}
	if relays != nil {
		opts.Relay = relays
		m.WatchRelay(relays)
	}
	var cl *cluster.Cluster
	if cfg.Redis != "" {
		cl, err = cluster.New(cluster.Options{URL: cfg.Redis, TTL: cfg.RedisNodeTTL, Logger: log})
		if err != nil {
			closeListeners()
			return fmt.Errorf("-redis: %w", err)
		}
		redis.SetLogger(redisLog{log})
		opts.Cluster = cl
		m.WatchCluster(cl)
	}
	hub := signaling.NewHub(opts)
	m.Watch(hub)
	if cl != nil {
		cl.Start(hub)
	}
	sio := signaling.NewServer(hub, signaling.ServerOptions{AllowedOrigins: cfg.AllowedOrigins, TrustedProxies: cfg.TrustedProxies, Logger: log})
	var draining atomic.Bool
	httpSrv := newHTTPServer(routes(cfg, hub, cl, sio, &draining, log), log)
	metricsSrv := newHTTPServer(metricsRoutes(m.Handler()), log)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(sio.Serve)
	scheme := "http"
	g.Go(func() error {
		var err error
		if cfg.TLSCert != "" {
			err = httpSrv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			err = httpSrv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http serve: %w", err)
		}
		return nil
	})
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	metricsURL := "off"
	if metricsLn != nil {
		metricsURL = "http://" + metricsLn.Addr().String() + "/metrics"
		g.Go(func() error {
			if err := metricsSrv.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("metrics serve: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		draining.Store(true)
		log.Info("shutting down")
		drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		// Stop taking connections, close the sockets (a socket still being
		// set up is refused by the closed hub), then stop the socket.io server.
		err := httpSrv.Shutdown(drain)
		if relays != nil {
			err = errors.Join(err, relays.Close())
		}
		err = errors.Join(err, hub.Close(drain))
		if cl != nil {
			err = errors.Join(err, cl.Close(drain))
		}
		_ = sio.Close()
		// Metrics last: a scrape during the drain still answers.
		return errors.Join(err, metricsSrv.Shutdown(drain))
	})
	if _, err := fs.Stat(static.FS, static.ClientScript); err != nil {
		log.Warn("the pages cannot connect: the socket.io client is not embedded; build with `make` (it runs npm ci)", "missing", static.ClientScript)
	}
	log.Info("listening", "url", scheme+"://"+ln.Addr().String(), "max_watchers", cfg.MaxWatchers,
		"keyed", cfg.TalkSecret != "", "private_rooms", cfg.PrivateRooms, "turn", len(cfg.TURN.URLs) > 0,
		"redis", cl != nil, "metrics", metricsURL, "relay", cfg.Relay.Mode, "relay_udp_port", cfg.Relay.UDPPort)
	if ready != nil {
		l := listening{Addr: ln.Addr()}
		if metricsLn != nil {
			l.Metrics = metricsLn.Addr()
		}
		ready <- l
	}
	return g.Wait()
}

// hubOptions turns the configuration into the hub's options.
func hubOptions(cfg serveConfig, log *slog.Logger) signaling.Options {
	opts := signaling.Options{
		QueueBytes: cfg.QueueBytes, Limits: cfg.Limits, PrivateRooms: cfg.PrivateRooms, Logger: log,
		RelayMode: cfg.Relay.Mode, RelaySecret: cfg.Relay.Secret,
	}
	if cfg.TalkSecret != "" {
		opts.Keys = signaling.NewKeys([]byte(cfg.TalkSecret))
	}
	static := cfg.ICEServers
	opts.ICEServers = func(socketID string) []protocol.ICEServer {
		servers := append(make([]protocol.ICEServer, 0, len(static)+1), static...)
		if len(cfg.TURN.URLs) > 0 {
			servers = append(servers, cfg.TURN.Credentials(socketID))
		}
		return servers
	}
	return opts
}

// Timeouts of the HTTP servers. A WebSocket, once upgraded, is the
// transport's: neither applies to it.
const (
	// readHeaderTimeout bounds how long a client may take to send a
	// request's headers.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes a keep-alive connection that sent no request for
	// this long.
	idleTimeout = 2 * time.Minute
)

// newHTTPServer is an http.Server for h with the service's timeouts.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// metricsRoutes serves GET /metrics only, for the -metrics-addr listener:
// the metrics name rooms, so they stay off the public address.
func metricsRoutes(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return mux
}

// routes wires the public HTTP endpoints: the socket.io endpoint,
// liveness, readiness, the pages' configuration and the embedded pages
// (not /metrics: see metricsRoutes). cl is nil for a single node.
func routes(cfg serveConfig, hub *signaling.Hub, cl *cluster.Cluster, sio http.Handler, draining *atomic.Bool, log *slog.Logger) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, securityHeaders)
	r.Handle("/socket.io/*", sio)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		st := hub.Stats()
		body := map[string]any{"status": "ok", "sockets": st.Clients, "rooms": st.Rooms}
		if cl != nil {
			body["redis"] = redisState(cl)
			body["nodes"] = cl.Nodes()
		}
		writeJSON(w, log, body)
	})
	r.Get("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		status := "ready"
		switch {
		case draining.Load():
			status = "draining"
		case cl != nil && !cl.Up():
			status = "redis unreachable"
		}
		if status != "ready" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		writeJSON(w, log, map[string]any{"status": status})
	})
	pageConfig := map[string]any{
		"maxWatchers": cfg.MaxWatchers, "iceServers": cfg.ICEServers,
		"offerTimeoutMs": cfg.OfferTimeout.Milliseconds(), "maxPendingCandidates": protocol.MaxPendingCandidates,
		// The protocol's timing, so the pages and the Go peers cannot drift.
		"resumeGraceMs": protocol.ResumeGrace.Milliseconds(), "retryMs": protocol.RetryInterval.Milliseconds(),
		"reportMs": protocol.ReportInterval.Milliseconds(), "retakeMs": protocol.RetakeWindow.Milliseconds(),
		// The protocol's words: the pages spell no event, type or code.
		"protocol": protocol.Vocabulary(),
	}
	r.Get("/config", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, log, pageConfig)
	})
	r.Handle("/*", http.FileServerFS(static.FS))
	return r
}

func redisState(cl *cluster.Cluster) string {
	if cl.Up() {
		return "up"
	}
	return "down"
}

// redisLog passes go-redis's own messages (redials) to the log at debug
// level: state changes are logged by the cluster itself.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "from", "go-redis")
}

func writeJSON(w http.ResponseWriter, log *slog.Logger, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Debug("write response", "err", err)
	}
}
