package local

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// next returns the session's next event, failing the test after 5 s.
func next(t *testing.T, s *Session) session.Event {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event in 5 s")
	}
	return nil
}

// Two sessions in a room speak the protocol through the hub as sockets
// do: the watcher's talk_request reaches the talker stamped with the
// watcher's id, the talker's answer the watcher; the watcher leaving is
// heard; the hub refuses a second talker with its sentinel error.
func TestSessionsSpeakThroughTheHub(t *testing.T) {
	hub := signaling.NewHub(signaling.Options{})
	defer func() { _ = hub.Close(context.Background()) }()
	ctx := context.Background()
	talker, entered, err := Open(ctx, hub, "192.0.2.1", protocol.EnterRequest{Room: "lab", Role: protocol.RoleTalker})
	if err != nil {
		t.Fatal(err)
	}
	defer talker.Close()
	if entered.Room != "lab" {
		t.Errorf("entered %+v", entered)
	}
	watcher, _, err := Open(ctx, hub, "192.0.2.2", protocol.EnterRequest{Room: "lab", Role: protocol.RoleWatcher})
	if err != nil {
		t.Fatal(err)
	}
	if err := watcher.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}}); err != nil {
		t.Fatal(err)
	}
	m, ok := next(t, talker).(session.Message)
	if !ok || m.Type != protocol.TypeTalkRequest || m.From != watcher.ID() {
		t.Fatalf("the talker heard %+v", m)
	}
	if err := talker.Send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: watcher.ID()}, Reason: protocol.RejectFull}); err != nil {
		t.Fatal(err)
	}
	if m, ok := next(t, watcher).(session.Message); !ok || m.Type != protocol.TypeTalkReject || m.From != talker.ID() {
		t.Fatalf("the watcher heard %+v", m)
	}
	if err := watcher.Send(protocol.EndTalk{Head: protocol.Head{Type: protocol.TypeEndTalk}}); !errors.Is(err, signaling.ErrNotTalker) {
		t.Errorf("a watcher's end_talk: %v, want ErrNotTalker", err)
	}
	_ = watcher.Close()
	if l, ok := next(t, talker).(session.Left); !ok || l.ID != watcher.ID() {
		t.Fatalf("the talker heard %+v, want the watcher leaving", l)
	}
	if err := watcher.Send(protocol.Bye{Head: protocol.Head{Type: protocol.TypeBye}}); !errors.Is(err, session.ErrClosed) {
		t.Errorf("send after Close: %v", err)
	}
	if _, _, err := Open(ctx, hub, "192.0.2.3", protocol.EnterRequest{Room: "lab", Role: protocol.RoleTalker}); !errors.Is(err, signaling.ErrRoomTaken) {
		t.Errorf("a second talker: %v, want ErrRoomTaken", err)
	}
}

// The hub closing drops its in-process sessions: Events closes, Done is
// closed.
func TestHubClosingEndsTheSession(t *testing.T) {
	hub := signaling.NewHub(signaling.Options{})
	s, _, err := Open(context.Background(), hub, "", protocol.EnterRequest{Room: "lab", Role: protocol.RoleWatcher})
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session outlived the hub")
	}
	for range s.Events() { // drains to its close
	}
}
