package signaling

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/broadcast-service/broadcast/protocol"
)

// gateSink holds every write until open is closed, like a client that
// paused reading, then passes frames on to a memSink.
type gateSink struct {
	*memSink
	open chan struct{}
}

func (s *gateSink) WriteFrames(frames []*Frame) error {
	select {
	case <-s.open:
	case <-s.done:
		return errors.New("connection closed")
	}
	return s.memSink.WriteFrames(frames)
}

// Watchers flooding a talker that paused reading are refused with
// talker_busy past their shares of its queue; the talker is never evicted
// for their traffic, and gets all that was accepted once it reads again.
// Messages from watchers on other nodes (Deliver) count against the same
// total share.
func TestWatchersCannotEvictTheirTalker(t *testing.T) {
	const queue, perWatcher = 64 << 10, 16 << 10
	h := NewHub(Options{QueueBytes: queue, Limits: Limits{MessagesPerSecond: 1e6, MessageBurst: 1e6, WatcherQueueBytes: perWatcher}})
	sink := &gateSink{memSink: newMemSink(), open: make(chan struct{})}
	c, err := h.Connect("talker", "", sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Leave)
	talker := peer{c, sink.memSink}
	if err := c.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker}); err != nil {
		t.Fatal(err)
	}
	watchers := []peer{
		connect(t, h, "w1", "r", protocol.RoleWatcher), connect(t, h, "w2", "r", protocol.RoleWatcher), connect(t, h, "w3", "r", protocol.RoleWatcher),
	}
	check := bystander(t, h)

	pad := strings.Repeat("x", 4<<10)
	busy := map[string]bool{}
	for round := 0; len(busy) < len(watchers); round++ {
		if round == 100 {
			t.Fatalf("after %d KiB from each watcher, not all were refused: %v", round*4, busy)
		}
		for _, w := range watchers {
			if busy[w.ID()] {
				continue
			}
			switch err := w.Message(fmt.Appendf(nil, `{"type":"candidate","pad":%q}`, pad)); {
			case errors.Is(err, ErrTalkerBusy):
				busy[w.ID()] = true
				refused(t, w, err, ErrTalkerBusy)
			case err != nil:
				t.Fatalf("%s: %v", w.ID(), err)
			}
		}
	}
	// Watchers on other nodes are held to the same shares.
	for i := range 50 {
		h.Deliver("r", "talker", fmt.Appendf(nil, `{"type":"candidate","pad":%q,"from":"remote-%d"}`, pad, i%3))
	}
	if sink.isClosed() || !hasMember(h, "r", "talker") {
		t.Fatal("the talker was evicted for what its watchers sent")
	}

	// The talker reads again: it gets what was accepted, within the shares.
	close(sink.open)
	if f := talker.next(t); f.Event != protocol.EventEntered {
		t.Fatalf("talker got %s first", f.Event)
	}
	perOrigin, total := map[string]int{}, 0
	for f := range talker.pending() {
		perOrigin[decode(t, f)["from"].(string)] += f.Size()
		total += f.Size()
	}
	for id, n := range perOrigin {
		if n > perWatcher {
			t.Errorf("%s had %d bytes queued for the talker, over its %d share", id, n, perWatcher)
		}
	}
	if total > queue/2 || total < queue/2-2*len(pad) {
		t.Errorf("watchers had %d bytes queued for the talker; want just under half of %d", total, queue)
	}
	for _, w := range watchers {
		if err := w.Message([]byte(`{"type":"candidate","n":1}`)); err != nil {
			t.Fatalf("%s after the talker read: %v", w.ID(), err)
		}
		if f := talker.next(t); decode(t, f)["from"] != w.ID() {
			t.Fatalf("talker got %s", f.Data)
		}
	}
	check()
}

// A watcher's messages are capped below the talker's: an SDP answer fits,
// a padded stats report does not.
func TestWatcherMessageCaps(t *testing.T) {
	h := NewHub(Options{})
	talker := connect(t, h, "talker", "r", protocol.RoleTalker)
	watcher := connect(t, h, "watcher", "r", protocol.RoleWatcher)
	big := fmt.Appendf(nil, `{"type":"offer","sdp":%q,"sendto":"watcher"}`, strings.Repeat("x", DefaultWatcherMessageBytes))
	if err := talker.Message(big); err != nil {
		t.Fatalf("talker's %d-byte offer: %v", len(big), err)
	}
	if f := watcher.next(t); f.Event != protocol.EventMessage {
		t.Fatalf("watcher got %s", f.Event)
	}
	answer := fmt.Appendf(nil, `{"type":"answer","sdp":%q}`, strings.Repeat("x", DefaultWatcherMessageBytes))
	refused(t, watcher, watcher.Message(answer), ErrTooLarge)
	stats := fmt.Appendf(nil, `{"type":"stats","fps":30,"pad":%q}`, strings.Repeat("x", DefaultStatsBytes))
	refused(t, watcher, watcher.Message(stats), ErrTooLarge)
	if err := watcher.Message([]byte(`{"type":"stats","fps":30,"jitter":0.01,"rtt":0.02}`)); err != nil {
		t.Fatal(err)
	}
	if f := talker.next(t); !strings.Contains(string(f.Data), `"fps":30`) {
		t.Fatalf("talker got %s", f.Data)
	}
	talker.drained(t)
}

func hasMember(h *Hub, room, id string) bool {
	for _, m := range h.Members(room) {
		if m == id {
			return true
		}
	}
	return false
}
