package whip

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

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

// Server serves the WHIP endpoints. Its methods are safe for concurrent
// use.
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*publisher // by id
	closed   bool
}

// New returns a Server on cfg.
func New(cfg Config) *Server {
	if cfg.AnswerTimeout <= 0 {
		cfg.AnswerTimeout = DefaultAnswerTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), sessions: map[string]*publisher{}}
	s.mux.HandleFunc("POST /whip/{room}", s.publish)
	s.mux.HandleFunc("PATCH /whip/{room}/{id}", s.patch)
	s.mux.HandleFunc("DELETE /whip/{room}/{id}", s.delete)
	s.mux.HandleFunc("OPTIONS /whip/", s.options)
	return s
}

// ServeHTTP serves /whip/…, with CORS headers for a publisher in a web
// page of another origin (the token, not a cookie, is the credential).
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

// publish takes a publisher's offer: the room's talker, on air through its
// relay, and the relay's answer in a 201.
func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	room := r.PathValue("room")
	body, err := readBody(w, r, contentSDP)
	if err == nil {
		err = s.admit(room)
	}
	var ufrag string
	if err == nil {
		ufrag, err = checkOffer(body)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	token := bearer(r)
	addr := signaling.ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.cfg.TrustedProxies)
	sess, entered, err := local.Open(r.Context(), s.cfg.Hub, addr, protocol.EnterRequest{Room: room, Role: protocol.RoleTalker, Key: token})
	if err != nil {
		s.fail(w, r, enterError(err, token))
		return
	}
	p := &publisher{
		id: sess.ID(), room: room, token: token, sess: sess, offer: body, ufrag: ufrag, onAir: time.Now(),
		log: s.log.With("from", "whip", "room", room, "session", sess.ID()), stop: make(chan struct{}), gone: make(chan struct{}),
	}
	answer, err := p.start(r.Context(), s.cfg.AnswerTimeout)
	if err == nil {
		err = s.add(p)
	}
	if err != nil {
		_ = sess.Close()
		s.fail(w, r, err)
		return
	}
	go func() {
		p.run()
		s.forget(p.id)
	}()
	p.log.Info("WHIP session on air", "remote", addr)
	h := w.Header()
	h.Set("Content-Type", contentSDP)
	h.Set("Location", "/whip/"+url.PathEscape(room)+"/"+p.id)
	h.Set("ETag", `"`+p.ufrag+`"`)
	for _, l := range linkHeaders(entered.ICEServers) {
		h.Add("Link", l)
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// patch takes trickled candidates of the publisher's.
func (s *Server) patch(w http.ResponseWriter, r *http.Request) {
	p, err := s.session(r)
	var body string
	if err == nil {
		body, err = readBody(w, r, contentFragment)
	}
	var f fragment
	if err == nil {
		f, err = parseFragment(body)
	}
	if err == nil && f.ufrag != "" && f.ufrag != p.ufrag {
		err = fmt.Errorf("%w: an ICE restart is not supported: publish again", ErrUnacceptable)
	}
	if err == nil {
		err = p.trickle(f)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// delete ends the broadcast.
func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	p, err := s.session(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.end()
	w.WriteHeader(http.StatusOK)
}

// session returns the session the request names, if its token is the one
// the session was made with: ErrNoSession, ErrNoToken or ErrBadToken.
func (s *Server) session(r *http.Request) (*publisher, error) {
	s.mu.Lock()
	p := s.sessions[r.PathValue("id")]
	s.mu.Unlock()
	if p == nil || p.room != r.PathValue("room") {
		return nil, ErrNoSession
	}
	token := bearer(r)
	switch {
	case p.token == "":
	case token == "":
		return nil, ErrNoToken
	case subtle.ConstantTimeCompare([]byte(token), []byte(p.token)) != 1:
		return nil, fmt.Errorf("%w: not the session's", ErrBadToken)
	}
	return p, nil
}

// admit checks the room name and that the hub has relays to serve a
// publisher.
func (s *Server) admit(room string) error {
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
	}
	return nil
}

// add registers p, unless the Server is closing.
func (s *Server) add(p *publisher) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.sessions[p.id] = p
	return nil
}

func (s *Server) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

// Sessions returns how many WHIP sessions are on air.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close ends every session (each goes off air and leaves its room) and
// refuses new ones with ErrClosed; it returns once they have left.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	all := make([]*publisher, 0, len(s.sessions))
	for _, p := range s.sessions {
		all = append(all, p)
	}
	s.mu.Unlock()
	for _, p := range all {
		p.end()
	}
}

// enterError maps the hub's refusal of the publisher's enter to the
// endpoint's errors.
func enterError(err error, token string) error {
	switch {
	case errors.Is(err, signaling.ErrBadKey) && token == "":
		return fmt.Errorf("%w: this server needs the room's talk key as a bearer token", ErrNoToken)
	case errors.Is(err, signaling.ErrBadKey):
		return fmt.Errorf("%w: not this room's talk key", ErrBadToken)
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

// bearer returns the request's bearer token (RFC 6750 §2.1), or "".
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// fail answers err with its status and a JSON body {code, message}; a 401
// says the scheme it wants (RFC 6750 §3).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := statusOf(err)
	if status == http.StatusInternalServerError {
		s.log.Warn("WHIP request failed", "method", r.Method, "err", err)
	} else {
		s.log.Debug("WHIP request refused", "method", r.Method, "status", status, "err", err)
	}
	h := w.Header()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="whip"`)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(protocol.SignalingError{Code: code, Message: err.Error()})
}
