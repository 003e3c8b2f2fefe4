package whip

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/broadcast-service/broadcast/internal/httperr"
	"github.com/broadcast-service/broadcast/internal/local"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// MaxBodyBytes bounds an offer or a fragment, in bytes: a browser's
// offer with every codec is under 10 KiB.
const MaxBodyBytes = 64 << 10

// DefaultAnswerTimeout is how long a POST waits for the relay's answer
// when Config.AnswerTimeout is 0: the relay starts, asks for the offer and
// gathers its candidates (a TURN server's allocation among them).
const DefaultAnswerTimeout = 15 * time.Second

// Content types of the endpoints (RFC 9725 §4.2, §4.3.1).
const (
	contentSDP      = "application/sdp"
	contentFragment = "application/trickle-ice-sdpfrag"
)

// Config configures a Server.
type Config struct {
	// Hub is the signaling hub the sessions enter.
	Hub *signaling.Hub
	// TrustedProxies is how many reverse proxies in front of the server
	// append to X-Forwarded-For: a session counts against the client's
	// address in the hub's per-address limit.
	TrustedProxies int
	// AnswerTimeout bounds how long a POST waits for the relay's answer;
	// 0 means DefaultAnswerTimeout.
	AnswerTimeout time.Duration
	// Logger receives the sessions' records; nil discards them.
	Logger *slog.Logger
}

// Server serves the WHIP and WHEP endpoints. Its methods are safe for
// concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*resource // by id
	closed   bool
}

// The endpoints' kinds, the first segment of their paths.
const (
	kindWHIP = "whip"
	kindWHEP = "whep"
)

// New returns a Server on cfg.
func New(cfg Config) *Server {
	if cfg.AnswerTimeout <= 0 {
		cfg.AnswerTimeout = DefaultAnswerTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), sessions: map[string]*resource{}}
	for _, kind := range []string{kindWHIP, kindWHEP} {
		s.mux.HandleFunc("POST /"+kind+"/{room}", func(w http.ResponseWriter, r *http.Request) { s.open(w, r, kind) })
		s.mux.HandleFunc("PATCH /"+kind+"/{room}/{id}", func(w http.ResponseWriter, r *http.Request) { s.patch(w, r, kind) })
		s.mux.HandleFunc("DELETE /"+kind+"/{room}/{id}", func(w http.ResponseWriter, r *http.Request) { s.delete(w, r, kind) })
		s.mux.HandleFunc("OPTIONS /"+kind+"/", s.options)
	}
	return s
}

// ServeHTTP serves /whip/… and /whep/…, with CORS headers for a client in
// a web page of another origin (the token, not a cookie, is the
// credential).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Location, Link, ETag")
	s.mux.ServeHTTP(w, r)
}

// options answers a CORS preflight.
func (s *Server) options(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, PATCH, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	h.Set("Allow", "POST, PATCH, DELETE, OPTIONS")
	w.WriteHeader(http.StatusNoContent)
}

// open takes a client's offer: a WHIP publisher goes on air as the room's
// talker through its relay, a WHEP player is served by the room's relay;
// either way the relay's answer comes in a 201.
func (s *Server) open(w http.ResponseWriter, r *http.Request, kind string) {
	room := r.PathValue("room")
	body, err := readBody(w, r, contentSDP)
	if err == nil {
		err = s.admit(room, kind)
	}
	var ufrag string
	if err == nil {
		ufrag, err = checkOffer(body, kind == kindWHIP)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	token := httperr.Bearer(r)
	addr := signaling.ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.cfg.TrustedProxies)
	enter := protocol.EnterRequest{Room: room, Role: protocol.RoleTalker, Key: token}
	var role role = &publisher{onAir: time.Now()}
	if kind == kindWHEP {
		enter.Role, role = protocol.RoleWatcher, player{}
	}
	sess, entered, err := local.Open(r.Context(), s.cfg.Hub, addr, enter)
	if err != nil {
		s.fail(w, r, enterError(err, token))
		return
	}
	// The session's URL is its own secret: not its socket id, which the
	// room's other members see (an open server's URL is its only key).
	id := rand.Text()
	res := &resource{
		kind: kind, id: id, room: room, token: token, sess: sess, offer: body, ufrag: ufrag, role: role,
		log: s.log.With("from", kind, "room", room, "socket_id", sess.ID()), stop: make(chan struct{}), gone: make(chan struct{}),
	}
	answer, err := res.start(r.Context(), s.cfg.AnswerTimeout)
	if err == nil {
		err = s.add(res)
	}
	if err != nil {
		res.role.leave(res) // a publisher off air: its room is not held for a retake it cannot make
		_ = sess.Close()
		s.fail(w, r, err)
		return
	}
	go func() {
		res.run()
		s.forget(res.id)
	}()
	res.log.Info("session up", "remote", addr)
	h := w.Header()
	h.Set("Content-Type", contentSDP)
	h.Set("Location", "/"+kind+"/"+url.PathEscape(room)+"/"+res.id)
	h.Set("ETag", `"`+res.ufrag+`"`)
	for _, l := range linkHeaders(entered.ICEServers) {
		h.Add("Link", l)
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// patch takes trickled candidates of the client's.
func (s *Server) patch(w http.ResponseWriter, r *http.Request, kind string) {
	res, err := s.session(r, kind)
	var body string
	if err == nil {
		body, err = readBody(w, r, contentFragment)
	}
	var f fragment
	if err == nil {
		f, err = parseFragment(body)
	}
	if err == nil && f.ufrag != "" && f.ufrag != res.ufrag {
		err = fmt.Errorf("%w: an ICE restart is not supported: start a new session", ErrUnacceptable)
	}
	if err == nil {
		err = res.trickle(f)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// delete ends the session: the broadcast, for a publisher.
func (s *Server) delete(w http.ResponseWriter, r *http.Request, kind string) {
	res, err := s.session(r, kind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res.end()
	w.WriteHeader(http.StatusOK)
}

// session returns the session the request names, if its token is the one
// the session was made with: ErrNoSession, ErrNoToken or ErrBadToken.
func (s *Server) session(r *http.Request, kind string) (*resource, error) {
	s.mu.Lock()
	res := s.sessions[r.PathValue("id")]
	s.mu.Unlock()
	if res == nil || res.kind != kind || res.room != r.PathValue("room") {
		return nil, ErrNoSession
	}
	token := httperr.Bearer(r)
	switch {
	case res.token == "":
	case token == "":
		return nil, ErrNoToken
	case subtle.ConstantTimeCompare([]byte(token), []byte(res.token)) != 1:
		return nil, fmt.Errorf("%w: not the session's", ErrBadToken)
	}
	return res, nil
}

// admit checks the room name, that the hub has relays to serve the
// session, and for a player that the room is on air.
func (s *Server) admit(room, kind string) error {
	if err := signaling.ValidRoomName(room); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRoom, err)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case !s.cfg.Hub.Relaying():
		return fmt.Errorf("%w: the server runs without its relay (-relay off)", ErrNoRelay)
	case kind == kindWHEP && !s.cfg.Hub.OnAir(room):
		return fmt.Errorf("%w: no broadcaster is on air in %q", ErrNotOnAir, room)
	}
	return nil
}

// add registers res, unless the Server is closing.
func (s *Server) add(res *resource) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.sessions[res.id] = res
	return nil
}

func (s *Server) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

// Close ends every session (a publisher goes off air, each leaves its
// room) and refuses new ones with ErrClosed; it returns once they have
// left.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	all := make([]*resource, 0, len(s.sessions))
	for _, res := range s.sessions {
		all = append(all, res)
	}
	s.mu.Unlock()
	for _, res := range all {
		res.end()
	}
}

// enterError maps the hub's refusal of the publisher's enter to the
// endpoint's errors.
func enterError(err error, token string) error {
	switch {
	case (errors.Is(err, signaling.ErrBadKey) || errors.Is(err, signaling.ErrExpired)) && token == "":
		return fmt.Errorf("%w: this room needs its key as a bearer token (the talk key to publish, a watch key to play a private room)", ErrNoToken)
	case errors.Is(err, signaling.ErrBadKey), errors.Is(err, signaling.ErrExpired):
		return fmt.Errorf("%w: %w", ErrBadToken, err)
	case errors.Is(err, signaling.ErrRoomTaken):
		return fmt.Errorf("%w: another broadcaster is on air in it", ErrRoomTaken)
	case errors.Is(err, signaling.ErrBadRoom):
		return fmt.Errorf("%w: %w", ErrBadRoom, err)
	case errors.Is(err, signaling.ErrTooManySockets), errors.Is(err, signaling.ErrRoomFull), errors.Is(err, signaling.ErrRateLimited):
		return fmt.Errorf("%w: %w", ErrBusy, err)
	case errors.Is(err, signaling.ErrClosed):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// readBody reads the request's body, which must be of type want and at
// most MaxBodyBytes: ErrContentType, ErrTooLarge.
func readBody(w http.ResponseWriter, r *http.Request, want string) (string, error) {
	if t, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || t != want {
		return "", fmt.Errorf("%w: want %s", ErrContentType, want)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", fmt.Errorf("%w: over %d bytes", ErrTooLarge, MaxBodyBytes)
		}
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	return string(b), nil
}

// fail answers err with its status and a JSON body {code, message}.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := statusOf(err)
	if status == http.StatusInternalServerError {
		s.log.Warn("request failed", "path", r.URL.Path, "method", r.Method, "err", err)
	} else {
		s.log.Debug("request refused", "path", r.URL.Path, "method", r.Method, "status", status, "err", err)
	}
	httperr.Write(w, status, code, "webrtc", err)
}
