package whip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/broadcast-service/broadcast/internal/local"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// errRelayLeft: the room's relay left, and the client's media connection
// with it.
var errRelayLeft = errors.New("the room's relay left: the media connection is gone")

// role is what a session is in its room: a WHIP publisher (the talker) or
// a WHEP player (a watcher). Its methods run on the session's goroutine.
type role interface {
	// begin sends what goes on air or asks for the stream.
	begin(s *resource) error
	// heard takes one event: the relay's answer (returned), nothing, or
	// an error that ends the session.
	heard(s *resource, ev session.Event) (answer string, err error)
	// leave sends what ends the session in the room (end_talk, bye).
	leave(s *resource)
}

// resource is one WHIP or WHEP session (its URL is the resource, RFC 9725 §4.3): a member of its room in the
// server's own process, whose media connection is the client's with the
// room's relay.
type resource struct {
	kind     string // "whip" or "whep": the path its URL is under
	id, room string
	token    string // the bearer token it was made with; PATCH and DELETE bring the same
	sess     *local.Session
	offer    string // the client's SDP offer
	ufrag    string // the offer's ice-ufrag
	role     role
	log      *slog.Logger

	mu    sync.Mutex
	relay string // the room's relay's socket id, once heard

	stop chan struct{} // closed by end: run leaves
	once sync.Once
	gone chan struct{} // closed once run has left the room
}

// start begins the session in its room and returns the relay's answer:
// ErrNoRelay if none comes within timeout, or the role's error, or ctx's.
func (s *resource) start(ctx context.Context, timeout time.Duration) (string, error) {
	if err := s.role.begin(s); err != nil {
		return "", err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-t.C:
			return "", fmt.Errorf("%w: no answer within %v", ErrNoRelay, timeout)
		case ev, ok := <-s.sess.Events():
			if !ok {
				return "", fmt.Errorf("%w: the signaling dropped the session", ErrNoRelay)
			}
			sdp, err := s.heard(ev)
			if errors.Is(err, errRelayLeft) {
				return "", fmt.Errorf("%w: the room's relay left without taking the offer", ErrUnacceptable)
			}
			if sdp != "" || err != nil {
				return sdp, err
			}
		}
	}
}

// heard is one event of the session's: the relay leaving ends it, signaling
// errors are logged, the rest is the role's.
func (s *resource) heard(ev session.Event) (string, error) {
	switch e := ev.(type) {
	case session.Left:
		if e.ID != "" && e.ID == s.relayID() {
			return "", errRelayLeft
		}
	case session.Refused:
		s.log.Log(context.Background(), e.Level(), "signaling error", "code", e.Code, "message", e.Message)
		return "", nil
	}
	return s.role.heard(s, ev)
}

// setRelay notes relay as the room's relay that serves the session; it
// returns ErrNoRelay if another one served it before (the room's relay
// restarted, and the client's media connection went with the old one).
func (s *resource) setRelay(relay string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.relay != "" && s.relay != relay {
		return fmt.Errorf("%w: the room's relay restarted", ErrNoRelay)
	}
	s.relay = relay
	return nil
}

func (s *resource) relayID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.relay
}

// sendErr maps the hub's refusal of the offer's message: too large for
// the hub's message limit (ErrTooLarge, 413), or else no relay to take it.
func sendErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, signaling.ErrTooLarge):
		return fmt.Errorf("%w: the offer is over what the server takes: %w", ErrTooLarge, err)
	}
	return fmt.Errorf("%w: %w", ErrNoRelay, err)
}

// send sends msg; a failure is logged: the relay asks again, or leaves.
func (s *resource) send(msg protocol.Typed) {
	if err := s.sess.Send(msg); err != nil {
		s.log.Debug("send", "type", msg.MessageType(), "err", err)
	}
}

// run keeps the session in the room until end, the role's end, or the
// signaling dropping it; then it leaves.
func (s *resource) run() {
	defer close(s.gone)
	defer func() {
		s.role.leave(s)
		_ = s.sess.Close()
	}()
	for {
		select {
		case <-s.stop:
			s.log.Info("session ended", "why", "deleted")
			return
		case ev, ok := <-s.sess.Events():
			if !ok {
				s.log.Info("session ended", "why", "the signaling dropped it")
				return
			}
			if _, err := s.heard(ev); err != nil {
				s.log.Info("session ended", "why", err)
				return
			}
		}
	}
}

// trickle passes the client's candidates to the relay.
func (s *resource) trickle(f fragment) error {
	relay := s.relayID()
	for _, c := range f.candidates {
		m := protocol.Candidate{Head: protocol.Head{Type: protocol.TypeCandidate, Sendto: relay}, Candidate: c.line, SDPMLineIndex: &c.index}
		if c.mid != "" {
			m.SDPMid = &c.mid
		}
		if err := s.sess.Send(m); err != nil {
			return err
		}
	}
	return nil
}

// end stops run, which leaves the room; it waits for that.
func (s *resource) end() {
	s.once.Do(func() { close(s.stop) })
	<-s.gone
}
