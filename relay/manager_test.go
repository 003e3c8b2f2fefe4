package relay

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/protocol"
)

// closingMember is a hub member the Manager closes: it leaves the room.
type closingMember struct{ *member }

func (c closingMember) Close() error {
	c.h.leave(c.id)
	return nil
}

// TestManagerRunsOneRelayPerRoom: StartRelay enters the room with role
// relay and the secret once however often it is called, the relay serves
// a watcher, ends with the talker's end_talk, starts again when asked,
// and Close stops it.
func TestManagerRunsOneRelayPerRoom(t *testing.T) {
	frames := testmedia.IVFFrames(t, testmedia.Make(t, 2).VP8)
	h := newHub(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	talker := newTestTalker(t, h.join("talker", true), frames)
	talker.start(ctx)
	defer talker.stop()

	var mu sync.Mutex
	var enters []protocol.EnterRequest
	m, err := NewManager(ManagerConfig{
		Server: "http://127.0.0.1:1", Secret: "s3cret",
		Open: func(ctx context.Context, cfg session.Config) (SignalCloser, session.Entered, error) {
			mu.Lock()
			defer mu.Unlock()
			enters = append(enters, cfg.Enter)
			return closingMember{h.join("relay", false)}, session.Entered{Room: cfg.Enter.Room}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = m.Close()
		}
	}()
	m.StartRelay("room")
	m.StartRelay("room")
	// The watcher asks the relay once: it must be in the room.
	eventually(t, 10*time.Second, "the relay in the room", func() bool { return h.has("relay") })
	w := newTestWatcher(t, h.join("w1", false), "relay")
	w.start(ctx)
	defer w.stop()
	within(t, w.enough, 20*time.Second, "the watcher's media")
	if n := m.Rooms(); n != 1 {
		t.Fatalf("%d rooms relayed, want 1", n)
	}
	if st := m.Stats(); st.Rooms != 1 || st.Watchers != 1 || st.Started != 1 {
		t.Errorf("stats %+v", st)
	}

	if err := talker.m.Send(protocol.EndTalk{Head: protocol.Head{Type: protocol.TypeEndTalk}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the relay ended", func() bool { return m.Rooms() == 0 })
	if st := m.Stats(); st.Rooms != 0 || st.Watchers != 0 || st.Started != 1 || st.Packets == 0 {
		t.Errorf("stats after the end %+v", st)
	}

	m.StartRelay("room")
	eventually(t, 10*time.Second, "the relay started again", func() bool { return m.Rooms() == 1 })
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if n := m.Rooms(); n != 0 {
		t.Errorf("%d rooms relayed after Close", n)
	}
	m.StartRelay("other")
	if n := m.Rooms(); n != 0 {
		t.Errorf("StartRelay after Close started a relay")
	}
	mu.Lock()
	defer mu.Unlock()
	want := protocol.EnterRequest{Room: "room", Role: protocol.RoleRelay, Key: "s3cret"}
	if len(enters) != 2 || enters[0] != want || enters[1] != want {
		t.Errorf("enters %+v, want twice %+v", enters, want)
	}
}
