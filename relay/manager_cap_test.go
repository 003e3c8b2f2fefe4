package relay

import (
	"context"
	"testing"

	"github.com/broadcast-service/broadcast/internal/session"
)

// Past MaxRooms relays running (entering ones counted), StartRelay starts
// none; a room whose relay runs does not count twice.
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
	for _, room := range []string{"a", "b", "a", "c"} {
		m.StartRelay(room)
	}
	if n := m.Rooms(); n != 2 {
		t.Errorf("%d rooms relayed, want 2", n)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
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
