package signaling

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	socketio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/session"
	"github.com/googollee/go-socket.io/engineio/transport"

	"github.com/broadcast-service/broadcast/protocol"
)

// DefaultPingInterval is how often clients ping when ServerOptions does not
// say, and DefaultPingTimeout how long the server then waits for a ping
// before it drops the socket.
const (
	DefaultPingInterval = 10 * time.Second
	DefaultPingTimeout  = 25 * time.Second
)

// ServerOptions configure the socket.io transport. The zero value is usable.
type ServerOptions struct {
	// AllowedOrigins lists the browser origins (scheme://host[:port]) allowed
	// to connect besides the server's own; "*" allows any. A request with no
	// Origin header (a non-browser client) is always allowed.
	AllowedOrigins []string
	// PingInterval is how often clients ping; zero means
	// DefaultPingInterval.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a ping (and for a write
	// to a stuck client) before dropping the socket; zero means
	// DefaultPingTimeout.
	PingTimeout time.Duration
	// TrustedProxies is how many reverse proxies in front of the server
	// append to X-Forwarded-For. With N, a socket's address for the
	// per-address limit is the entry the outermost appended, the N-th from
	// the right; entries further left are the client's own and ignored.
	// Zero ignores the header.
	TrustedProxies int
	// Logger receives connection records. Nil discards them.
	Logger *slog.Logger
}

// Server is the socket.io (Engine.IO 3, WebSocket transport) side of a Hub.
// It serves the path /socket.io/ and uses none of go-socket.io's rooms: the
// Hub owns rooms and each client's outbound queue, so a client that stops
// reading can only stall its own queue.
type Server struct {
	hub       *Hub
	sio       *socketio.Server
	log       *slog.Logger
	refusals  *throttledLog // refusal records, which clients can provoke at will
	proxies   int           // ServerOptions.TrustedProxies
	transport *wsTransport

	// clients maps socket ids to hub clients. go-socket.io's per-connection
	// context is not safe here: its disconnect handler may run on a
	// goroutine that has no ordering with the one that set it.
	clients sync.Map // string -> *Client
}

// NewServer returns a transport for hub. Call Serve to start accepting
// sockets and Close to stop.
func NewServer(hub *Hub, opts ServerOptions) *Server {
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = DefaultPingTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{hub: hub, log: opts.Logger, refusals: newThrottledLog(opts.Logger), proxies: opts.TrustedProxies}
	s.transport = newWSTransport(originChecker(opts.AllowedOrigins), opts.Logger, s.refusals)
	s.sio = socketio.NewServer(&engineio.Options{
		PingInterval:       opts.PingInterval,
		PingTimeout:        opts.PingTimeout,
		SessionIDGenerator: randomIDs{},
		Transports:         []transport.Transport{s.transport},
	})
	s.sio.OnConnect("/", s.onConnect)
	s.sio.OnEvent("/", protocol.EventEnter, s.onEnter)
	s.sio.OnEvent("/", protocol.EventMessage, s.onMessage)
	s.sio.OnDisconnect("/", s.onDisconnect)
	s.sio.OnError("/", s.onError)
	return s
}

// Serve accepts sockets until Close; it returns nil after Close.
func (s *Server) Serve() error {
	if err := s.sio.Serve(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("socket.io serve: %w", err)
	}
	return nil
}

// Close stops accepting sockets, waits (a bounded time) for those being set
// up, and stops Serve. Connected sockets are closed by Hub.Close.
func (s *Server) Close() error {
	if !s.transport.setups.close(setupWait) {
		s.log.Warn("closing with sockets still being set up", "waited", setupWait)
	}
	return s.sio.Close()
}

// ServeHTTP serves the socket.io endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.sio.ServeHTTP(w, r) }

func (s *Server) onConnect(conn socketio.Conn) error {
	defer s.recoverHandler(conn, "connect")
	sk, err := newSink(conn)
	if err != nil {
		return err // go-socket.io closes the connection
	}
	addr := s.remoteAddr(conn)
	c, err := s.hub.Connect(conn.ID(), addr, sk)
	if err != nil {
		s.refusals.Log(slog.LevelInfo, "socket refused", "remote", addr, "err", err)
		s.hub.Refused(err)
		Refuse(sk, err)
		return nil
	}
	s.clients.Store(conn.ID(), c)
	s.log.Debug("socket connected", "socket_id", conn.ID(), "remote", conn.RemoteAddr().String())
	return nil
}

func (s *Server) onEnter(conn socketio.Conn, arg rawArg) {
	defer s.recoverHandler(conn, protocol.EventEnter)
	c := s.clientOf(conn)
	if c == nil {
		return
	}
	req, err := ParseEnter([]byte(arg))
	if err == nil {
		err = c.Enter(req)
	}
	if err != nil {
		s.refused(c, "enter", err)
	}
}

func (s *Server) onMessage(conn socketio.Conn, arg rawArg) {
	defer s.recoverHandler(conn, protocol.EventMessage)
	c := s.clientOf(conn)
	if c == nil {
		return
	}
	if err := c.Message([]byte(arg)); err != nil {
		s.refused(c, "message", err)
	}
}

// refused tells the client why its event was refused and logs the reason,
// throttled; rate refusals, which come in floods, only at debug level.
func (s *Server) refused(c *Client, event string, err error) {
	level := slog.LevelInfo
	if errors.Is(err, ErrRateLimited) {
		level = slog.LevelDebug
	}
	s.refusals.Log(level, "refused", "event", event, "code", Code(err), "socket_id", c.ID(), "room", c.Room(), "reason", err.Error())
	s.hub.Refused(err)
	c.Error(err)
}

func (s *Server) onDisconnect(conn socketio.Conn, reason string) {
	defer s.recoverHandler(conn, eventDisconnect)
	if v, ok := s.clients.LoadAndDelete(conn.ID()); ok {
		c := v.(*Client)
		c.Leave()
		s.log.Debug("socket disconnected", "socket_id", c.ID(), "reason", reason)
	}
}

// recoverHandler, deferred by every handler go-socket.io calls, turns a
// panic while serving a socket into that socket's end: logged with its
// stack, the connection closed (which makes the socket leave its room).
// go-socket.io recovers event handlers itself but not its connect and
// disconnect handlers, whose panics would end the process.
func (s *Server) recoverHandler(conn socketio.Conn, event string) {
	v := recover()
	if v == nil {
		return
	}
	s.log.Error("socket handler failed", "event", event, "socket_id", conn.ID(), "err", recovered(v).Error())
	if c, ok := s.clients.LoadAndDelete(conn.ID()); ok {
		func() {
			defer func() { _ = recover() }() // it was Leave that failed
			c.(*Client).Leave()
		}()
	}
	if event != eventDisconnect { // the connection is closing already
		_ = conn.Close()
	}
}

// eventDisconnect names go-socket.io's disconnect handler in logs.
const eventDisconnect = "disconnect"

func (s *Server) onError(conn socketio.Conn, err error) {
	if conn == nil {
		s.log.Debug("socket.io error", "err", err)
		return
	}
	s.log.Debug("socket.io error", "socket_id", conn.ID(), "err", err)
}

// remoteAddr is the key of the socket's address for the per-address limit
// (see clientAddr).
func (s *Server) remoteAddr(conn socketio.Conn) string {
	return clientAddr(conn.RemoteAddr().String(), conn.RemoteHeader().Values("X-Forwarded-For"), s.proxies)
}

func (s *Server) clientOf(conn socketio.Conn) *Client {
	v, _ := s.clients.Load(conn.ID())
	c, _ := v.(*Client)
	return c
}

// rawArg receives one event argument as raw JSON. Its kind is string, not
// []byte, because go-socket.io walks byte slices element by element looking
// for binary attachments, and decoding into it never fails on the JSON's
// type, so the hub, not the library, answers a wrong-typed argument.
type rawArg string

// UnmarshalJSON keeps b as it is.
func (a *rawArg) UnmarshalJSON(b []byte) error {
	*a = rawArg(b)
	return nil
}

// frameWriter is the Engine.IO connection under a socketio.Conn (promoted
// from go-socket.io's connection). Writing a Frame's packet to it sends a
// message encoded once for all its recipients.
type frameWriter interface {
	NextWriter(session.FrameType) (io.WriteCloser, error)
}

type sink struct {
	conn socketio.Conn
	fw   frameWriter
	cork *corkConn // nil if the socket did not come through wsTransport
}

var errNoFrameWriter = errors.New("socket.io connection without an Engine.IO frame writer")

func newSink(conn socketio.Conn) (sink, error) {
	fw, ok := conn.(frameWriter)
	if !ok {
		return sink{}, errNoFrameWriter
	}
	addr, _ := conn.RemoteAddr().(corkAddr)
	return sink{conn: conn, fw: fw, cork: addr.conn}, nil
}

// WriteFrames writes each frame as one WebSocket message through the
// library (which serialises it with its own pongs), corking the TCP
// connection around a backlog so that it leaves in one system call.
func (s sink) WriteFrames(frames []*Frame) (err error) {
	if s.cork != nil && len(frames) > 1 {
		s.cork.cork()
		defer func() { err = errors.Join(err, s.cork.uncork()) }()
	}
	for _, f := range frames {
		if err := s.writeFrame(f); err != nil {
			return err
		}
	}
	return nil
}

func (s sink) writeFrame(f *Frame) error {
	w, err := s.fw.NextWriter(session.TEXT)
	if err != nil {
		return fmt.Errorf("next writer: %w", err)
	}
	if _, err := w.Write(f.Packet); err != nil {
		_ = w.Close()
		return fmt.Errorf("write frame: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("flush frame: %w", err)
	}
	return nil
}

func (s sink) Close() error { return s.conn.Close() }

// randomIDs makes socket ids of 128 random bits, base64url-encoded (22
// characters), so that ids seen by a room's members cannot be guessed.
type randomIDs struct{}

func (randomIDs) NewID() string { return randomToken() }

// originChecker allows requests with no Origin, from the request's own host,
// or from an allowed origin.
func originChecker(allowed []string) func(*http.Request) bool {
	set := make(map[string]bool, len(allowed))
	for _, o := range allowed {
		set[strings.TrimRight(strings.ToLower(o), "/")] = true
	}
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" || set["*"] || set[strings.ToLower(origin)] {
			return true
		}
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
}
