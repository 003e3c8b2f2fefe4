package recording

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/broadcast-service/broadcast/relay"
	"github.com/broadcast-service/broadcast/signaling"
)

// Relays is the server's relays, which record rooms: *relay.Manager.
type Relays interface {
	Record(room string, rec relay.Recording) error
}

// Config configures a Recorder.
type Config struct {
	// Dir is where the recordings go (-record-dir); it is made if missing.
	Dir string
	// Relays record the rooms.
	Relays Relays
	// OnAir reports whether a room has a talker on air.
	OnAir func(room string) bool
	// Keys, if set, are the server's (-talk-secret): every call needs the
	// room's talk key.
	Keys *signaling.Keys
	// Logger receives the recorder's records; nil discards them.
	Logger *slog.Logger
}

// Recorder records rooms into Config.Dir, one recording per room at a
// time. Its methods are safe for concurrent use.
type Recorder struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	active map[string]*session // by room
	closed bool

	stats struct{ started, failed, bytes, dropped atomic.Uint64 }
}

// Stats are a Recorder's figures since it began.
type Stats struct {
	// Active is how many rooms it records now.
	Active int
	// Started counts recordings started; Failed, those stopped by a write
	// error (a full disk) or not finalised.
	Started, Failed uint64
	// Bytes is what it wrote of frames; DroppedPackets, packets the
	// relay handed a recording whose writer was behind, left out.
	Bytes, DroppedPackets uint64
}

// New returns a Recorder on cfg, the directory made. It returns the
// error of making it.
func New(cfg Config) (*Recorder, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("-record-dir: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{cfg: cfg, log: cfg.Logger.With("from", "recording"), active: map[string]*session{}}, nil
}

// Start records room, unless it records already: the room's relay
// (started if it has none) writes into a new file once the talker's
// tracks are in. It returns the recording's state, ErrNotOnAir with no
// talker on air, ErrNoRelay if the relay cannot be had, ErrClosed once
// closing.
func (r *Recorder) Start(room string) (State, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return State{}, ErrClosed
	}
	if s := r.active[room]; s != nil {
		r.mu.Unlock()
		return s.state(), nil
	}
	if !r.cfg.OnAir(room) {
		r.mu.Unlock()
		return State{}, ErrNotOnAir
	}
	if _, err := fileName(room, time.Now(), ".webm"); err != nil {
		r.mu.Unlock()
		return State{}, err
	}
	s := newSession(r, room)
	r.active[room] = s
	r.mu.Unlock()
	if err := r.cfg.Relays.Record(room, s); err != nil {
		s.stop()
		s.Ended(err)
		<-s.done
		return State{}, fmt.Errorf("%w: %w", ErrNoRelay, err)
	}
	r.stats.started.Add(1)
	return s.state(), nil
}

// Stop stops room's recording and returns once its file is finalised;
// the state it returns says the room no longer records.
func (r *Recorder) Stop(room string) State {
	r.mu.Lock()
	s := r.active[room]
	r.mu.Unlock()
	if s == nil {
		return State{}
	}
	s.stop()
	s.wait()
	st := s.state()
	st.Recording = false
	return st
}

// stopWait bounds how long a stopped recording waits for the relay to let
// go of it before it is finalised regardless.
const stopWait = 5 * time.Second

// wait waits for the session's file to be finalised once stopped: the
// relay detaches it and says it ended, or after stopWait the writer ends
// regardless (what the relay still hands it is dropped).
func (s *session) wait() {
	t := time.NewTimer(stopWait)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.end()
		<-s.done
	}
}

// State returns whether room records, and into what.
func (r *Recorder) State(room string) State {
	r.mu.Lock()
	s := r.active[room]
	r.mu.Unlock()
	if s == nil {
		return State{}
	}
	return s.state()
}

// State is a room's recording as the endpoints tell it.
type State struct {
	Recording bool   `json:"recording"`
	File      string `json:"file,omitempty"`  // its name, once its file is begun
	Bytes     int64  `json:"bytes,omitempty"` // of frames written
}

func (s *session) state() State {
	return State{Recording: true, File: s.fileName(), Bytes: s.bytes()}
}

// forget takes s off the active recordings.
func (r *Recorder) forget(s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active[s.room] == s {
		delete(r.active, s.room)
	}
}

// Info is one recording in the directory.
type Info struct {
	Name      string    `json:"name"`
	Room      string    `json:"room"`
	Started   time.Time `json:"started"`
	Bytes     int64     `json:"bytes"`
	Recording bool      `json:"recording"` // still being written
}

// List returns the recordings in the directory, of room alone unless it
// is "", newest first.
func (r *Recorder) List(room string) ([]Info, error) {
	entries, err := os.ReadDir(r.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	r.mu.Lock()
	writing := map[string]bool{}
	for _, s := range r.active {
		writing[s.fileName()] = true
	}
	r.mu.Unlock()
	var out []Info
	for _, e := range entries {
		rm, start, ok := parseName(e.Name())
		if !ok || !e.Type().IsRegular() || (room != "" && rm != room) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		out = append(out, Info{Name: e.Name(), Room: rm, Started: start, Bytes: fi.Size(), Recording: writing[e.Name()]})
	}
	slices.SortFunc(out, func(a, b Info) int { return b.Started.Compare(a.Started) })
	return out, nil
}

// open opens the recording name for reading: ErrNoFile if it is none.
func (r *Recorder) open(name string) (*os.File, Info, error) {
	room, start, ok := parseName(name)
	if !ok {
		return nil, Info{}, ErrNoFile
	}
	f, err := os.Open(filepath.Join(r.cfg.Dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, Info{}, ErrNoFile
	}
	if err != nil {
		return nil, Info{}, err
	}
	return f, Info{Name: name, Room: room, Started: start}, nil
}

// Stats returns the recorder's figures.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	active := len(r.active)
	r.mu.Unlock()
	return Stats{
		Active: active, Started: r.stats.started.Load(), Failed: r.stats.failed.Load(),
		Bytes: r.stats.bytes.Load(), DroppedPackets: r.stats.dropped.Load(),
	}
}

// Close stops every recording and returns once their files are
// finalised; Start then returns ErrClosed.
func (r *Recorder) Close() {
	r.mu.Lock()
	r.closed = true
	all := make([]*session, 0, len(r.active))
	for _, s := range r.active {
		all = append(all, s)
	}
	r.mu.Unlock()
	for _, s := range all {
		s.stop()
	}
	for _, s := range all {
		s.wait()
	}
}

// contentType is a recording's MIME type, by its extension.
func contentType(name string) string {
	if strings.HasSuffix(name, ".mkv") {
		return "video/x-matroska"
	}
	return "video/webm"
}
