package session

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// DefaultDialTimeout bounds one try at connecting and entering when
// Config.DialTimeout is zero.
const DefaultDialTimeout = 10 * time.Second

// Config configures a Session.
type Config struct {
	// Server is the signaling server's base URL (http, https).
	Server string
	// Enter is the `enter` request, sent on every (re)connection. A
	// retake token from `entered` replaces its Retake.
	Enter protocol.EnterRequest
	// DialTimeout bounds one try at connecting and entering; zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// ReconnectFor bounds how long a lost connection is tried again; zero
	// means until the session's context ends. After it, Events closes and
	// Err returns ErrLost.
	ReconnectFor time.Duration
	// Dial configures the socket.io connection (TLS, headers).
	Dial *sioclient.Options
	// Logger receives the session's records; nil discards them.
	Logger *slog.Logger
}

// Session is a Go peer's connection to the room through the signaling
// server, made again when lost. Send and ID are safe for concurrent use
// (pion's callbacks send candidates from their own goroutines); Events is
// for one reader.
type Session struct {
	cfg    Config
	log    *slog.Logger
	events chan Event
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	mu     sync.Mutex // guards sio, retake, err, closed
	sio    *sioclient.Client
	retake string
	err    error
	closed bool
}

// Open connects to cfg.Server and enters the room, and returns once the
// server has said `entered`, with that reply. It returns an error wrapping
// ErrRefused if the server refuses the enter, ErrUnreachable if it cannot
// be reached within cfg.DialTimeout, or ctx's error. The session lives
// until ctx ends or Close: Close it in any case.
func Open(ctx context.Context, cfg Config) (*Session, Entered, error) {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Session{cfg: cfg, log: cfg.Logger, events: make(chan Event), done: make(chan struct{}), retake: cfg.Enter.Retake}
	e, err := s.connect(ctx)
	if err != nil {
		if s.sio != nil {
			_ = s.sio.Close()
		}
		return nil, Entered{}, err
	}
	ctx, s.cancel = context.WithCancel(ctx)
	go s.run(ctx)
	return s, e, nil
}

// ID returns the socket id the server knows this peer by: it changes on
// every reconnection.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sio.ID()
}

// Events yields what the session hears in the room. It closes when the
// session's context ends, Close is called, or a lost connection cannot be
// made again (then Err says why).
func (s *Session) Events() <-chan Event { return s.events }

// Err returns why Events closed: an error wrapping ErrLost, or nil when the
// context ended or Close was called.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Send sends msg, one of protocol's message structs, as a `message`. It
// returns ErrClosed once the session is closed, and the connection's error
// while it is lost (the message is not kept for later).
func (s *Session) Send(msg protocol.Typed) error {
	s.mu.Lock()
	sio, closed := s.sio, s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if err := sio.Emit(protocol.EventMessage, msg); err != nil {
		return fmt.Errorf("send %v: %w", msg.MessageType(), err)
	}
	return nil
}

// Close ends the session and its connection, and waits for its goroutine.
func (s *Session) Close() error {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.sio.Close()
}

// run hands on what the connection hears, and makes the connection again
// when it is lost.
func (s *Session) run(ctx context.Context) {
	defer close(s.done)
	defer close(s.events)
	for {
		s.mu.Lock()
		sio := s.sio
		s.mu.Unlock()
		if !s.relay(ctx, sio) {
			return
		}
		lost := sio.Err()
		s.log.Warn("signaling connection lost: reconnecting", "err", lost)
		if !s.emit(ctx, Lost{Err: lost}) {
			return
		}
		e, err := s.reconnect(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.mu.Lock()
				s.err = fmt.Errorf("%w: %w (reconnecting: %w)", ErrLost, lost, err)
				s.mu.Unlock()
			}
			return
		}
		e.Again = true
		if !s.emit(ctx, e) {
			return
		}
	}
}

// relay hands on sio's events until it closes (true) or ctx ends (false).
func (s *Session) relay(ctx context.Context, sio *sioclient.Client) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case ev, ok := <-sio.Events():
			if !ok {
				return true
			}
			if e := typed(ev); e != nil && !s.emit(ctx, e) {
				return false
			}
		}
	}
}

func (s *Session) emit(ctx context.Context, e Event) bool {
	select {
	case s.events <- e:
		return true
	case <-ctx.Done():
		return false
	}
}

// reconnect connects and enters again, with back-off, for up to
// cfg.ReconnectFor. A refusal is tried again too: a talker's room is held
// by its old socket until the server finds that gone.
func (s *Session) reconnect(ctx context.Context) (Entered, error) {
	if s.cfg.ReconnectFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.ReconnectFor)
		defer cancel()
	}
	var e Entered
	var last error
	err := Retry(ctx, func(ctx context.Context) error {
		var err error
		e, err = s.connect(ctx)
		return err
	}, func(err error, next time.Duration) {
		last = err
		s.log.Warn("reconnecting", "err", err, "next_try", next)
	})
	if err != nil && last != nil {
		err = last
	}
	return e, err
}

// connect dials the server, in place of any earlier connection, and enters
// the room, within cfg.DialTimeout.
func (s *Session) connect(ctx context.Context) (Entered, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	sio, err := sioclient.Dial(ctx, s.cfg.Server, s.cfg.Dial)
	if err != nil {
		return Entered{}, fmt.Errorf("%w: %s: %w", ErrUnreachable, s.cfg.Server, err)
	}
	s.mu.Lock()
	old := s.sio
	s.sio = sio
	req := s.cfg.Enter
	req.Retake = s.retake
	s.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	e, err := enter(ctx, sio, req)
	if err != nil {
		return Entered{}, err
	}
	if e.Retake != "" {
		s.mu.Lock()
		s.retake = e.Retake
		s.mu.Unlock()
	}
	return e, nil
}

// enter sends req over sio and waits for `entered` (or a refusal); what
// else comes first is of no use to a peer not yet in the room.
func enter(ctx context.Context, sio *sioclient.Client, req protocol.EnterRequest) (Entered, error) {
	if err := sio.Emit(protocol.EventEnter, req); err != nil {
		return Entered{}, fmt.Errorf("%w: %w", ErrLost, err)
	}
	for {
		select {
		case <-ctx.Done():
			return Entered{}, ctx.Err()
		case ev, ok := <-sio.Events():
			if !ok {
				return Entered{}, fmt.Errorf("%w: %w", ErrLost, sio.Err())
			}
			switch ev.Name {
			case protocol.EventEntered:
				return entered(ev), nil
			case protocol.EventError:
				return Entered{}, fmt.Errorf("%w: %s", ErrRefused, RefusalText(ev))
			}
		}
	}
}
