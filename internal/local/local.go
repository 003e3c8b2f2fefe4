// Package local is a member of a room served in the server's own process
// rather than over a socket: the peers of the server's HTTP endpoints
// (a WHIP publisher, a WHEP player) enter the hub directly, counted
// against their HTTP client's address, and speak the protocol as any
// socket does. A Session is what the relay's Signal and the Go peers'
// internal/session.Session are: messages sent, events heard.
package local

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// Session is one in-process member of a room. Send and ID are safe for
// concurrent use; Events is for one reader.
type Session struct {
	c      *signaling.Client
	in     chan session.Event // from the hub's writer (sink.WriteFrames)
	events chan session.Event // to the reader; closed once the session ends
	done   chan struct{}      // closed by Close or when the hub drops the session
	once   sync.Once
}

// inBuffer is how many events the hub may hand a session before its
// writer waits for the reader (the hub's outbound queue bounds the rest).
const inBuffer = 64

// Open connects a session from addr (the HTTP client's address, for the
// per-address limit) to hub and enters it with req. It returns once the
// hub said `entered`, with that reply, or the hub's error for the
// connection or the enter (signaling.ErrBadKey, ErrRoomTaken, ErrBadRoom,
// ErrTooManySockets, ErrRoomFull...), or ctx's. Close the session in any
// case once done with it.
func Open(ctx context.Context, hub *signaling.Hub, addr string, req protocol.EnterRequest) (*Session, session.Entered, error) {
	s := &Session{in: make(chan session.Event, inBuffer), events: make(chan session.Event), done: make(chan struct{})}
	c, err := hub.Connect(newID(), addr, sink{s})
	if err != nil {
		return nil, session.Entered{}, err
	}
	s.c = c
	if err := c.Enter(req); err != nil {
		c.Leave()
		return nil, session.Entered{}, err
	}
	// Messages routed to the new member may come before its `entered`:
	// they are handed on after it.
	var early []session.Event
	for {
		select {
		case <-ctx.Done():
			s.Close()
			return nil, session.Entered{}, ctx.Err()
		case <-s.done:
			return nil, session.Entered{}, fmt.Errorf("%w: dropped before it entered", session.ErrLost)
		case ev := <-s.in:
			if e, ok := ev.(session.Entered); ok {
				go s.pump(early)
				return s, e, nil
			}
			early = append(early, ev)
		}
	}
}

// newID is a socket id as socket.io's: 20 characters, URL-safe.
func newID() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pump hands the reader early, then what the hub writes, until the
// session ends, when Events yields session.Lost (unless Close ended it)
// and closes.
func (s *Session) pump(early []session.Event) {
	defer close(s.events)
	for _, ev := range early {
		select {
		case s.events <- ev:
		case <-s.done:
			return
		}
	}
	for {
		select {
		case ev := <-s.in:
			select {
			case s.events <- ev:
			case <-s.done:
				return
			}
		case <-s.done:
			return
		}
	}
}

// ID is the session's socket id in the hub.
func (s *Session) ID() string { return s.c.ID() }

// Events yields what is heard in the room, and closes when the session
// ends.
func (s *Session) Events() <-chan session.Event { return s.events }

// Send routes msg, one of protocol's message structs, as the member's
// `message`; it returns the hub's error for it (signaling.ErrNotTalker,
// ErrUnknownRecipient...), or session.ErrClosed once the session ended.
func (s *Session) Send(msg protocol.Typed) error {
	select {
	case <-s.done:
		return session.ErrClosed
	default:
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("%s: %w", msg.MessageType(), err)
	}
	return s.c.Message(raw)
}

// Close leaves the room (its members hear `user disconnected`) and ends
// the session. It is idempotent.
func (s *Session) Close() error {
	s.c.Leave()
	s.end()
	return nil
}

// Done is closed once the session has ended: closed, or dropped by the
// hub (evicted, or the hub closing).
func (s *Session) Done() <-chan struct{} { return s.done }

func (s *Session) end() { s.once.Do(func() { close(s.done) }) }

// sink is the hub's side of a Session: frames in, events out.
type sink struct{ s *Session }

// WriteFrames hands each frame the reader has a use for to it, waiting
// for it as a slow socket would make the hub's writer wait.
func (k sink) WriteFrames(frames []*signaling.Frame) error {
	for _, f := range frames {
		ev := session.FromServer(f.Event, f.Data)
		if ev == nil {
			continue
		}
		select {
		case k.s.in <- ev:
		case <-k.s.done:
			return session.ErrClosed
		}
	}
	return nil
}

// Close is the hub dropping the session.
func (k sink) Close() error {
	k.s.end()
	return nil
}
