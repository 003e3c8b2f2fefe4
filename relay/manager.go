package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// SignalCloser is a room's signaling that the Manager opened and closes:
// *session.Session.
type SignalCloser interface {
	Signal
	Close() error
}

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	// Server is the signaling server's own base URL (http, https), which
	// each room's relay enters as a client.
	Server string
	// Secret is the server's relay secret: the key of an enter with role
	// relay. It is not logged.
	Secret string
	// Dial configures the socket.io connection (TLS, headers).
	Dial *sioclient.Options
	// Relay configures every room's relay.
	Relay Config
	// MaxRooms is how many rooms' relays run at once (entering ones
	// counted); StartRelay past it starts none and returns
	// ErrTooManyRooms, and the room's watchers past its talker's cap are
	// refused as without a relay, at once. 0 means DefaultMaxRooms.
	MaxRooms int
	// Open enters a room with role relay and returns its signaling and the
	// `entered` reply; nil means session.Open. Tests route in memory.
	Open func(ctx context.Context, cfg session.Config) (SignalCloser, session.Entered, error)
}

// DefaultMaxRooms is how many rooms' relays a Manager runs at once when
// ManagerConfig.MaxRooms is 0.
const DefaultMaxRooms = 100

// Manager runs the relay of each room that needs one, one Room per room at
// a time, each over a signaling session of its own to the server: the
// server's hook (signaling's RelayStarter) calls StartRelay. Its methods
// are safe for concurrent use.
type Manager struct {
	cfg    ManagerConfig
	log    *slog.Logger
	eng    *Engine
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	rooms map[string]*Room // running; nil while entering
	// recordings are those asked for rooms whose relay is entering.
	recordings map[string][]Recording
	ended      Stats // the totals of rooms that ended
	closed     bool
	// capWarned: MaxRooms was logged as reached since a room last ended.
	capWarned bool
}

// NewManager returns a Manager on cfg, with its Engine (the ICE UDP port).
// It returns NewEngine's errors.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	eng, err := NewEngine(cfg.Relay)
	if err != nil {
		return nil, err
	}
	if cfg.Open == nil {
		cfg.Open = func(ctx context.Context, sc session.Config) (SignalCloser, session.Entered, error) {
			s, e, err := session.Open(ctx, sc)
			if err != nil {
				return nil, e, err
			}
			return s, e, nil
		}
	}
	if cfg.MaxRooms <= 0 {
		cfg.MaxRooms = DefaultMaxRooms
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, log: eng.cfg.Logger, eng: eng, ctx: ctx, cancel: cancel, rooms: map[string]*Room{}, recordings: map[string][]Recording{}}, nil
}

// StartRelay starts room's relay unless it runs (or enters) already, and
// returns at once: nil if the relay runs or is started, an error wrapping
// ErrTooManyRooms if MaxRooms relays run, ErrClosed once the Manager is
// closed. The relay enters the room as a client of ManagerConfig.Server
// and runs until the talker leaves, its signaling is lost, or Close.
// It implements signaling.RelayStarter.
func (m *Manager) StartRelay(room string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if _, running := m.rooms[room]; running {
		return nil
	}
	if len(m.rooms) >= m.cfg.MaxRooms {
		if !m.capWarned { // once till a room ends: watchers come in floods
			m.capWarned = true
			m.log.Warn("relay not started: too many rooms relayed", "room", room, "max", m.cfg.MaxRooms)
		}
		return fmt.Errorf("%w: %d relayed", ErrTooManyRooms, m.cfg.MaxRooms)
	}
	m.rooms[room] = nil
	m.wg.Go(func() { m.run(room) })
	return nil
}

// run enters room with role relay and runs its Room. The room's entry is
// deleted before its signaling is closed: a StartRelay once the server
// has heard the relay leave starts a new one.
func (m *Manager) run(room string) {
	forget := func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if r := m.rooms[room]; r != nil {
			m.ended = m.ended.add(r.Stats())
			m.ended.Watchers = 0
		}
		delete(m.rooms, room)
		m.capWarned = false
		for _, rec := range m.recordings[room] {
			rec.Ended(fmt.Errorf("%w: the relay did not enter", ErrTalkerLeft))
		}
		delete(m.recordings, room)
	}
	sig, entered, err := m.cfg.Open(m.ctx, session.Config{
		Server: m.cfg.Server, Dial: m.cfg.Dial, Logger: m.log,
		Enter: protocol.EnterRequest{Room: room, Role: protocol.RoleRelay, Key: m.cfg.Secret},
	})
	if err != nil {
		if m.ctx.Err() == nil {
			m.log.Warn("relay could not enter", "room", room, "err", err)
		}
		forget()
		return
	}
	r := NewRoom(m.eng, sig)
	m.mu.Lock()
	m.rooms[room] = r
	recs := m.recordings[room]
	delete(m.recordings, room)
	m.mu.Unlock()
	for _, rec := range recs {
		if err := r.Record(rec); err != nil {
			rec.Ended(err)
		}
	}
	err = r.Run(m.ctx, entered)
	forget()
	_ = sig.Close()
	switch {
	case err == nil, errors.Is(err, ErrTalkerLeft):
		m.log.Info("relay ended", "room", room, "why", err)
	default:
		m.log.Warn("relay ended", "room", room, "err", err)
	}
}

// Record records room into rec (see Room.Record), starting the room's
// relay if it has none. It returns StartRelay's errors (ErrTooManyRooms,
// ErrClosed). rec.Ended is called when the recording stops or the relay
// ends (or fails to enter).
func (m *Manager) Record(room string, rec Recording) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	r, running := m.rooms[room]
	if r == nil {
		m.recordings[room] = append(m.recordings[room], rec)
	}
	m.mu.Unlock()
	if r != nil {
		return r.Record(rec)
	}
	if running {
		return nil // entering: run takes it
	}
	if err := m.StartRelay(room); err != nil {
		m.mu.Lock()
		m.recordings[room] = slices.DeleteFunc(m.recordings[room], func(x Recording) bool { return x == rec })
		m.mu.Unlock()
		return err
	}
	return nil
}

// Rooms returns how many rooms' relays run (or are entering).
func (m *Manager) Rooms() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rooms)
}

// Stats returns the figures of every room relayed since the Manager
// began, Rooms and Watchers those relayed and served now, and its UDP
// port's.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.ended
	for _, r := range m.rooms {
		if r != nil {
			s = s.add(r.Stats())
		}
	}
	s.Rooms = len(m.rooms)
	s.SentDatagrams, s.SendCalls, s.SendDropped = m.eng.SendStats()
	return s
}

// Close stops every room's relay, waits for them, and closes the Engine.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	return m.eng.Close()
}
