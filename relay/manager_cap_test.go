package relay

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
)

// Past MaxRooms relays running (entering ones counted), StartRelay starts
// none and says so (ErrTooManyRooms); a room whose relay runs does not
// count twice. A closed Manager starts none either (ErrClosed).
func TestManagerMaxRooms(t *testing.T) {
	opened := make(chan string, 10)
	m, err := NewManager(ManagerConfig{
		Server: "http://127.0.0.1:1", MaxRooms: 2,
		Open: func(ctx context.Context, cfg session.Config) (SignalCloser, session.Entered, error) {
			opened <- cfg.Enter.Room
			<-ctx.Done() // entering until Close
			return nil, session.Entered{}, ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, room := range []string{"a", "b", "a"} {
		if err := m.StartRelay(room); err != nil {
			t.Fatalf("StartRelay(%q) = %v", room, err)
		}
	}
	if err := m.StartRelay("c"); !errors.Is(err, ErrTooManyRooms) {
		t.Fatalf("StartRelay past MaxRooms = %v, want ErrTooManyRooms", err)
	}
	if n := m.Rooms(); n != 2 {
		t.Errorf("%d rooms relayed, want 2", n)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.StartRelay("d"); !errors.Is(err, ErrClosed) {
		t.Errorf("StartRelay after Close = %v, want ErrClosed", err)
	}
	close(opened)
	var rooms []string
	for r := range opened {
		rooms = append(rooms, r)
	}
	if len(rooms) != 2 {
		t.Errorf("entered %v, want a and b", rooms)
	}
}

// onCloseMember is a hub member whose Close calls onClose.
type onCloseMember struct {
	*member
	onClose func()
}

func (c onCloseMember) Close() error {
	c.onClose()
	return nil
}

// A StartRelay that comes as a room's relay closes its signaling (the
// server heard it leave) starts a new relay: the room's entry is gone by
// then.
func TestManagerRestartsOnClose(t *testing.T) {
	h := newHub(t)
	h.join("talker", true)
	opened := make(chan struct{}, 2)
	var m *Manager
	var err error
	m, err = NewManager(ManagerConfig{
		Server: "http://127.0.0.1:1",
		Open: func(ctx context.Context, cfg session.Config) (SignalCloser, session.Entered, error) {
			opened <- struct{}{}
			if len(opened) > 1 {
				return nil, session.Entered{}, context.Canceled // the second: enough
			}
			sig := h.join("relay", false)
			sig.deliver(session.Lost{Err: context.Canceled}) // Run ends at once
			return onCloseMember{sig, func() { m.StartRelay(cfg.Enter.Room) }}, session.Entered{Room: cfg.Enter.Room}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.StartRelay("room")
	for range 2 {
		select {
		case <-opened:
		case <-time.After(10 * time.Second):
			t.Fatal("the StartRelay made as the relay closed was lost")
		}
	}
}
