package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/broadcast-service/broadcast/cluster"
	"github.com/broadcast-service/broadcast/metrics"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/recording"
	"github.com/broadcast-service/broadcast/relay"
	"github.com/broadcast-service/broadcast/signaling"
	"github.com/broadcast-service/broadcast/static"
	"github.com/broadcast-service/broadcast/whip"
)

// listening is where serve listens: the public address, and the metrics
// address (nil with -metrics-addr off).
type listening struct{ Addr, Metrics net.Addr }

// serve listens on cfg.Addr, and on cfg.MetricsAddr for /metrics, and
// serves until ctx ends, then drains. A listen error is returned at once.
// If ready is not nil it receives the listening addresses once serving.
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger, ready chan<- listening) error {
	s, err := newServer(cfg, log)
	if err != nil {
		return err
	}
	return s.run(ctx, ready)
}

// server is one node's parts: its listeners, the hub with its cluster and
// relays, the socket.io transport and the HTTP servers.
type server struct {
	cfg                 serveConfig
	log                 *slog.Logger
	ln, metricsLn       net.Listener // metricsLn nil with -metrics-addr off
	metrics             *metrics.Metrics
	relays              *relay.Manager   // nil with -relay off
	cl                  *cluster.Cluster // nil without -redis
	hub                 *signaling.Hub
	sio                 *signaling.Server
	whip                *whip.Server
	recorder            *recording.Recorder // nil without -record-dir
	httpSrv, metricsSrv *http.Server
	draining            atomic.Bool
}

// newServer listens and builds a node's parts; on an error it closes what it
// made.
func newServer(cfg serveConfig, log *slog.Logger) (_ *server, err error) {
	s := &server{cfg: cfg, log: log, metrics: metrics.New()}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if cfg.MetricsAddr != "" {
		if s.metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("-metrics-addr: listen: %w", err)
		}
	}
	// The certificate is read once, for the HTTP server and the relays'
	// loopback sessions, which trust it alone.
	var cert *tls.Certificate
	if cfg.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("-tls-cert: %w", err)
		}
		cert = &pair
	}
	opts := hubOptions(cfg, log)
	opts.Observer = s.metrics
	if s.relays, err = newRelays(cfg, s.ln.Addr(), cert, log); err != nil {
		return nil, err
	}
	if s.relays != nil {
		opts.Relay = s.relays
		s.metrics.WatchRelay(s.relays)
	}
	if cfg.Redis != "" {
		if s.cl, err = cluster.New(cluster.Options{URL: cfg.Redis, TTL: cfg.RedisNodeTTL, Logger: log}); err != nil {
			return nil, fmt.Errorf("-redis: %w", err)
		}
		redis.SetLogger(redisLog{log})
		opts.Cluster = s.cl
		s.metrics.WatchCluster(s.cl)
	}
	s.hub = signaling.NewHub(opts)
	s.metrics.Watch(s.hub)
	s.sio = signaling.NewServer(s.hub, signaling.ServerOptions{AllowedOrigins: cfg.AllowedOrigins, TrustedProxies: cfg.TrustedProxies, Logger: log})
	s.whip = whip.New(whip.Config{Hub: s.hub, TrustedProxies: cfg.TrustedProxies, Logger: log})
	var recordings http.Handler
	if cfg.RecordDir != "" {
		if s.relays == nil {
			return nil, errors.New("-record-dir: recordings are made by the relay: not with -relay off")
		}
		if s.recorder, err = recording.New(recording.Config{Dir: cfg.RecordDir, Relays: s.relays, OnAir: s.hub.OnAir, Keys: opts.Keys, Logger: log}); err != nil {
			return nil, err
		}
		s.metrics.WatchRecorder(s.recorder)
		recordings = s.recorder.Handler()
	}
	s.httpSrv = newHTTPServer(routes(cfg, s.hub, s.cl, s.sio, s.whip, recordings, &s.draining, log), log)
	if cert != nil {
		s.httpSrv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}}
	}
	s.metricsSrv = newHTTPServer(metricsRoutes(s.metrics.Handler(), cfg.Pprof), log)
	return s, nil
}

// close releases what newServer made before it failed.
func (s *server) close() {
	for _, l := range []net.Listener{s.ln, s.metricsLn} {
		if l != nil {
			_ = l.Close()
		}
	}
	if s.relays != nil {
		_ = s.relays.Close()
	}
}

// run serves until ctx ends, then drains.
func (s *server) run(ctx context.Context, ready chan<- listening) error {
	if s.cl != nil {
		s.cl.Start(s.hub)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(s.sio.Serve)
	g.Go(s.serveHTTP)
	if s.metricsLn != nil {
		g.Go(s.serveMetrics)
	}
	g.Go(func() error {
		<-gctx.Done()
		return s.drain(ctx)
	})
	s.logListening()
	if ready != nil {
		l := listening{Addr: s.ln.Addr()}
		if s.metricsLn != nil {
			l.Metrics = s.metricsLn.Addr()
		}
		ready <- l
	}
	return g.Wait()
}

func (s *server) serveHTTP() error {
	var err error
	if s.httpSrv.TLSConfig != nil {
		err = s.httpSrv.ServeTLS(s.ln, "", "") // the certificate is in TLSConfig
	} else {
		err = s.httpSrv.Serve(s.ln)
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http serve: %w", err)
	}
	return nil
}

func (s *server) serveMetrics() error {
	if err := s.metricsSrv.Serve(s.metricsLn); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics serve: %w", err)
	}
	return nil
}

// drain stops taking connections, ends the relays, closes the sockets (a
// socket still being set up is refused by the closed hub), then stops the
// socket.io server, within cfg.ShutdownTimeout from ctx's end.
func (s *server) drain(ctx context.Context) error {
	s.draining.Store(true)
	s.log.Info("shutting down")
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.httpSrv.Shutdown(drain)
	if s.recorder != nil {
		s.recorder.Close() // the files finalised while their relays still run
	}
	s.whip.Close() // its publishers go off air before their relays end
	if s.relays != nil {
		err = errors.Join(err, s.relays.Close())
	}
	err = errors.Join(err, s.hub.Close(drain))
	if s.cl != nil {
		err = errors.Join(err, s.cl.Close(drain))
	}
	_ = s.sio.Close()
	// Metrics last: a scrape during the drain still answers.
	return errors.Join(err, s.metricsSrv.Shutdown(drain))
}

func (s *server) logListening() {
	if _, err := fs.Stat(static.FS, static.ClientScript); err != nil {
		s.log.Warn("the pages cannot connect: the socket.io client is not embedded; build with `make` (it runs npm ci)", "missing", static.ClientScript)
	}
	scheme, metricsURL := "http", "off"
	if s.cfg.TLSCert != "" {
		scheme = "https"
	}
	if s.metricsLn != nil {
		metricsURL = "http://" + s.metricsLn.Addr().String() + "/metrics"
	}
	cfg := s.cfg
	s.log.Info("listening", "url", scheme+"://"+s.ln.Addr().String(), "max_watchers", cfg.MaxWatchers,
		"keyed", cfg.TalkSecret != "", "private_rooms", cfg.PrivateRooms, "turn", len(cfg.TURN.URLs) > 0,
		"redis", s.cl != nil, "metrics", metricsURL, "relay", cfg.Relay.Mode, "relay_udp_port", cfg.Relay.UDPPort)
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

// metricsRoutes serves GET /metrics, and with profiles Go's profiles under
// /debug/pprof/ (-pprof), for the -metrics-addr listener only: the metrics
// name rooms, and profiles cost CPU, so they stay off the public address.
func metricsRoutes(metrics http.Handler, profiles bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	if profiles {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// routes wires the public HTTP endpoints: the socket.io endpoint, WHIP and WHEP,
// the recordings (nil without -record-dir), liveness, readiness, the
// pages' configuration and the embedded pages (not /metrics: see
// metricsRoutes). cl is nil for a single node.
func routes(cfg serveConfig, hub *signaling.Hub, cl *cluster.Cluster, sio, whipSrv, recordings http.Handler, draining *atomic.Bool, log *slog.Logger) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, securityHeaders)
	r.Handle("/socket.io/*", sio)
	r.Handle("/whip/*", whipSrv)
	r.Handle("/whep/*", whipSrv)
	if recordings != nil {
		r.Handle("/rooms/*", recordings)
		r.Handle("/recordings", recordings)
		r.Handle("/recordings/*", recordings)
	}
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		st := hub.Stats()
		body := map[string]any{"status": "ok", "sockets": st.Clients, "rooms": st.Rooms, "on_air": st.OnAir}
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
		// What talk.html sends each direct watcher at most, in bits/s.
		"directBitrate":  cfg.DirectBitrate,
		"offerTimeoutMs": cfg.OfferTimeout.Milliseconds(), "maxPendingCandidates": protocol.MaxPendingCandidates,
		// The protocol's timing, so the pages and the Go peers cannot drift.
		"resumeGraceMs": protocol.ResumeGrace.Milliseconds(), "retryMs": protocol.RetryInterval.Milliseconds(),
		"reportMs": protocol.ReportInterval.Milliseconds(), "retakeMs": protocol.RetakeWindow.Milliseconds(),
		// The protocol's words: the pages spell no event, type or code.
		"protocol": protocol.Vocabulary(),
		// The camera's simulcast layers toward the room's relay.
		"simulcast": protocol.SimulcastEncodings(),
		// The relay mode: talk.html queues the watchers past its cap when
		// no relay serves them.
		"relay": string(cfg.Relay.Mode),
		// The server records rooms (-record-dir): talk.html offers Record.
		"recording": cfg.RecordDir != "",
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
