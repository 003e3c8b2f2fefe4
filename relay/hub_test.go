package relay

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// hub is a room's signaling in memory, routing as the server does for a
// relay's room: a message with sendto goes to that member; without, a
// watcher's (or the relay's) goes to the talker and the talker's to
// everyone else.
type hub struct {
	t       testing.TB
	mu      sync.Mutex
	members map[string]*member
	talker  string
	// tap, if set, sees every message sent, as its sender wrote it, with
	// the sender's id; under mu.
	tap func(from string, raw []byte)
}

func newHub(t testing.TB) *hub { return &hub{t: t, members: map[string]*member{}} }

// member is one socket in the hub: a Signal.
type member struct {
	h      *hub
	id     string
	events chan session.Event
}

// join adds a member; talker makes it the room's talker.
func (h *hub) join(id string, talker bool) *member {
	m := &member{h: h, id: id, events: make(chan session.Event, 4096)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.members[id] = m
	if talker {
		h.talker = id
	}
	return m
}

// has reports whether id is in the hub.
func (h *hub) has(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.members[id] != nil
}

// leave takes id out and tells everyone else, as `user disconnected`.
func (h *hub) leave(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.members, id)
	for _, o := range h.members {
		o.deliver(session.Left{ID: id})
	}
}

func (m *member) deliver(ev session.Event) {
	select {
	case m.events <- ev:
	default:
		m.h.t.Errorf("%s: events full", m.id)
	}
}

func (m *member) ID() string                   { return m.id }
func (m *member) Events() <-chan session.Event { return m.events }

func (m *member) Send(msg protocol.Typed) error {
	raw, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	var head protocol.Head
	var in protocol.Message
	if err := json.Unmarshal(raw, &head); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return err
	}
	in.From = m.id
	h := m.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, in := h.members[m.id]; !in {
		return session.ErrClosed
	}
	if h.tap != nil {
		h.tap(m.id, raw)
	}
	switch {
	case head.Sendto != "":
		if to := h.members[head.Sendto]; to != nil {
			to.deliver(session.Message{Message: in})
		}
	case m.id != h.talker:
		if to := h.members[h.talker]; to != nil {
			to.deliver(session.Message{Message: in})
		}
	default:
		for id, o := range h.members {
			if id != m.id {
				o.deliver(session.Message{Message: in})
			}
		}
	}
	return nil
}

// relayStats returns a channel of the relayWatchers of every stats message
// the relay sends to the talker to.
func (h *hub) relayStats(to string) <-chan int {
	ch := make(chan int, 100)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tap = func(from string, raw []byte) {
		var st protocol.Stats
		if from != "relay" || json.Unmarshal(raw, &st) != nil || st.Type != protocol.TypeStats || st.Sendto != to || st.RelayWatchers == nil {
			return
		}
		select {
		case ch <- *st.RelayWatchers:
		default:
		}
	}
	return ch
}

// waitStats returns the next relayWatchers on ch, failing the test after
// two report intervals.
func waitStats(t testing.TB, ch <-chan int) int {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(2 * protocol.ReportInterval):
		t.Fatal("no stats from the relay")
	}
	return 0
}
