package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// memSink records frames; Close marks it closed.
type memSink struct {
	frames chan *Frame
	mu     sync.Mutex
	closed bool
}

func newMemSink() *memSink { return &memSink{frames: make(chan *Frame, 4096)} }

func (s *memSink) WriteFrames(frames []*Frame) error {
	for _, f := range frames {
		s.frames <- f
	}
	return nil
}

func (s *memSink) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

func (s *memSink) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

type peer struct {
	*Client
	sink *memSink
}

func connect(t *testing.T, h *Hub, id, room string) peer {
	t.Helper()
	s := newMemSink()
	c, err := h.Connect(id, s)
	if err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	t.Cleanup(c.Leave)
	if room != "" {
		if err := c.Enter(room); err != nil {
			t.Fatalf("enter %s: %v", room, err)
		}
	}
	return peer{c, s}
}

const waitFor = 5 * time.Second

// next returns the next frame the peer receives.
func (p peer) next(t *testing.T) *Frame {
	t.Helper()
	select {
	case f := <-p.sink.frames:
		return f
	case <-time.After(waitFor):
		t.Fatalf("%s: no frame within %v", p.ID(), waitFor)
		return nil
	}
}

// drained asserts the peer receives nothing before a marker frame that is
// queued now, after everything the test did so far.
func (p peer) drained(t *testing.T) {
	t.Helper()
	marker := NewFrame("marker", json.RawMessage(`{}`))
	p.out.push(marker)
	for {
		f := p.next(t)
		if f == marker {
			return
		}
		t.Errorf("%s: unexpected %s %s", p.ID(), f.Event, f.Data)
	}
}

func decode(t *testing.T, f *Frame) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(f.Data, &m); err != nil {
		t.Fatalf("frame %s data %s: %v", f.Event, f.Data, err)
	}
	return m
}

func TestRouting(t *testing.T) {
	tests := []struct {
		name    string
		from    string
		msg     string
		wantTo  []string // who receives the message
		wantErr error
	}{
		{"room broadcast reaches everyone else", "a", `{"type":"talk_ready"}`, []string{"b", "c"}, nil},
		{"sendto reaches only the target", "a", `{"type":"offer","sdp":"v=0","sendto":"b"}`, []string{"b"}, nil},
		{"null sendto means the room", "b", `{"type":"talk_request","sendto":null}`, []string{"a", "c"}, nil},
		{"empty sendto means the room", "b", `{"type":"talk_request","sendto":""}`, []string{"a", "c"}, nil},
		{"sendto into another room is refused", "a", `{"type":"offer","sendto":"x"}`, nil, ErrUnknownRecipient},
		{"sendto unknown id is refused", "a", `{"type":"offer","sendto":"nobody"}`, nil, ErrUnknownRecipient},
		{"sendto self is refused", "a", `{"type":"offer","sendto":"a"}`, nil, ErrUnknownRecipient},
		{"not an object", "a", `"hello"`, nil, ErrBadMessage},
		{"an array", "a", `[1,2]`, nil, ErrBadMessage},
		{"no type", "a", `{"sdp":"v=0"}`, nil, ErrBadMessage},
		{"type not a string", "a", `{"type":7}`, nil, ErrBadMessage},
		{"empty type", "a", `{"type":""}`, nil, ErrBadMessage},
		{"sendto not a string", "a", `{"type":"offer","sendto":42}`, nil, ErrBadMessage},
		{"truncated JSON", "a", `{"type":"offer"`, nil, ErrBadMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHub(Options{})
			peers := map[string]peer{
				"a": connect(t, h, "a", "r1"),
				"b": connect(t, h, "b", "r1"),
				"c": connect(t, h, "c", "r1"),
				"x": connect(t, h, "x", "r2"),
			}
			err := peers[tt.from].Message([]byte(tt.msg))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Message(%s) = %v, want %v", tt.msg, err, tt.wantErr)
			}
			for _, id := range tt.wantTo {
				m := decode(t, peers[id].next(t))
				if m["from"] != tt.from {
					t.Errorf("%s got from=%v, want %s", id, m["from"], tt.from)
				}
			}
			for _, p := range peers {
				p.drained(t)
			}
		})
	}
}

func TestMessageKeepsFieldsAndStampsFrom(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "r")
	b := connect(t, h, "b", "r")
	if err := a.Message([]byte(` {"from":"b","type":"candidate","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0} `)); err != nil {
		t.Fatal(err)
	}
	f := b.next(t)
	if f.Event != EventMessage {
		t.Fatalf("event %q, want message", f.Event)
	}
	if n := strings.Count(string(f.Data), `"from"`); n != 1 {
		t.Errorf("%d from fields in %s, want exactly 1", n, f.Data)
	}
	m := decode(t, f)
	want := map[string]any{"from": "a", "type": "candidate", "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0.0}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	wantPacket := `2["message",` + string(f.Data) + `]`
	if string(f.Packet) != wantPacket {
		t.Errorf("packet %s, want %s", f.Packet, wantPacket)
	}
}

func TestEmptyObjectGetsFromOnly(t *testing.T) {
	m, err := parseMessage([]byte(`{"type":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.stamp([]byte(`"from":"a"`))); got != `{"type":"x","from":"a"}` {
		t.Errorf("stamp = %s", got)
	}
}

func TestMessageBeforeEnter(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "")
	connect(t, h, "b", "r")
	if err := a.Message([]byte(`{"type":"talk_ready"}`)); !errors.Is(err, ErrNotInRoom) {
		t.Fatalf("got %v, want ErrNotInRoom", err)
	}
}

func TestRoomNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"lecture1", true},
		{"Hörsaal 3 – Montag", true},
		{strings.Repeat("r", MaxRoomNameBytes), true},
		{"", false},
		{strings.Repeat("r", MaxRoomNameBytes+1), false},
		{"bad\x00name", false},
		{"new\nline", false},
		{"\xff\xfe", false},
	}
	for _, tt := range tests {
		err := ValidRoomName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidRoomName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadRoom) {
			t.Errorf("ValidRoomName(%q) = %v, want ErrBadRoom", tt.name, err)
		}
	}
}

func TestDisconnectNoticeOnce(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "r")
	b := connect(t, h, "b", "r")
	x := connect(t, h, "x", "other")
	a.Leave()
	a.Leave() // a transport may report a disconnect twice
	f := b.next(t)
	if f.Event != EventUserDisconnected || decode(t, f)["id"] != "a" {
		t.Fatalf("got %s %s, want user disconnected {id: a}", f.Event, f.Data)
	}
	b.drained(t)
	x.drained(t)
	if got := h.Members("r"); len(got) != 1 || got[0] != "b" {
		t.Errorf("members %v, want [b]", got)
	}
	if err := a.Enter("r"); !errors.Is(err, ErrClosed) {
		t.Errorf("Enter after Leave = %v, want ErrClosed", err)
	}
	if got := h.Members("r"); len(got) != 1 {
		t.Errorf("members %v after a late Enter, want [b]", got)
	}
}

func TestEnterMovesRooms(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "r1")
	b := connect(t, h, "b", "r1")
	c := connect(t, h, "c", "r2")
	if err := a.Enter("r2"); err != nil {
		t.Fatal(err)
	}
	if f := b.next(t); f.Event != EventUserDisconnected {
		t.Fatalf("r1 got %s, want user disconnected", f.Event)
	}
	if err := a.Message([]byte(`{"type":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	if m := decode(t, c.next(t)); m["type"] != "hello" {
		t.Errorf("r2 got %v", m)
	}
	b.drained(t)
	if err := a.Enter("r2"); err != nil { // entering the same room again is a no-op
		t.Fatal(err)
	}
	c.drained(t)
	if st := h.Stats(); st.Rooms != 2 || st.Clients != 3 {
		t.Errorf("stats %+v, want 2 rooms, 3 clients", st)
	}
	b.Leave()
	if st := h.Stats(); st.Rooms != 1 {
		t.Errorf("an empty room is kept: %+v", st)
	}
}

func TestDuplicateID(t *testing.T) {
	h := NewHub(Options{})
	connect(t, h, "a", "")
	if _, err := h.Connect("a", newMemSink()); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("got %v, want ErrDuplicateID", err)
	}
}

func TestOrderPerSender(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "r")
	b := connect(t, h, "b", "r")
	const n = 2000
	for i := range n {
		if err := a.Message(fmt.Appendf(nil, `{"type":"seq","n":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if got := decode(t, b.next(t))["n"]; got != float64(i) {
			t.Fatalf("message %d arrived as %v", i, got)
		}
	}
}

func TestErrorReachesOnlyTheSender(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "r")
	b := connect(t, h, "b", "r")
	a.Error(fmt.Errorf("sendto %q: %w", "zz", ErrUnknownRecipient))
	m := decode(t, a.next(t))
	if m["code"] != "unknown_recipient" || !strings.Contains(m["message"].(string), "zz") {
		t.Errorf("error frame %v", m)
	}
	b.drained(t)
}

// stuckSink blocks every write until released, like a client that stopped
// reading with full socket buffers.
type stuckSink struct {
	release chan struct{}
	once    sync.Once
	closed  chan struct{}
}

func (s *stuckSink) WriteFrames([]*Frame) error {
	select {
	case <-s.release:
		return errors.New("connection closed")
	case <-s.closed:
		return errors.New("connection closed")
	}
}

func (s *stuckSink) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func TestSlowConsumerIsEvicted(t *testing.T) {
	h := NewHub(Options{QueueBytes: 16 << 10})
	stuck := &stuckSink{release: make(chan struct{}), closed: make(chan struct{})}
	frozen, err := h.Connect("frozen", stuck)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(frozen.Leave)
	if err := frozen.Enter("busy"); err != nil {
		t.Fatal(err)
	}
	talker := connect(t, h, "talker", "busy")
	watcher := connect(t, h, "watcher", "busy")
	calm := connect(t, h, "calm", "calm")

	payload := fmt.Appendf(nil, `{"type":"data","pad":%q}`, strings.Repeat("x", 1000))
	sent := 0
	for evicted := false; !evicted; {
		if sent == 100 {
			t.Fatal("frozen client was not evicted after 100 KB")
		}
		if err := talker.Message(payload); err != nil {
			t.Fatal(err)
		}
		sent++
		select {
		case <-stuck.closed: // evict closes the connection after leaving
			evicted = true
		case <-time.After(time.Millisecond): // no eviction yet: send more
		}
	}
	if sent*len(payload) < 16<<10 {
		t.Errorf("evicted after %d bytes, under the 16 KiB limit", sent*len(payload))
	}
	// The others get every message and exactly one notice.
	for _, p := range []peer{watcher} {
		notices := 0
		for range sent + 1 {
			f := p.next(t)
			if f.Event == EventUserDisconnected {
				notices++
				if decode(t, f)["id"] != "frozen" {
					t.Errorf("notice %s", f.Data)
				}
			}
		}
		if notices != 1 {
			t.Errorf("%s got %d notices, want 1", p.ID(), notices)
		}
		p.drained(t)
	}
	if f := talker.next(t); f.Event != EventUserDisconnected {
		t.Errorf("talker got %s, want the notice", f.Event)
	}
	talker.drained(t)
	if got := h.Members("busy"); len(got) != 2 {
		t.Errorf("busy members %v, want talker and watcher", got)
	}
	calm.drained(t)
}
