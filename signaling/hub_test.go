package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// memSink records frames; Close marks it closed.
type memSink struct {
	frames chan *Frame
	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed by the first Close
}

func newMemSink() *memSink {
	return &memSink{frames: make(chan *Frame, 4096), done: make(chan struct{})}
}

func (s *memSink) WriteFrames(frames []*Frame) error {
	for _, f := range frames {
		s.frames <- f
	}
	return nil
}

func (s *memSink) Close() error {
	s.mu.Lock()
	if !s.closed {
		close(s.done)
	}
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

// connect adds a client; with a room it enters it in role and takes the
// `entered` reply.
func connect(t *testing.T, h *Hub, id, room string, role protocol.Role) peer {
	t.Helper()
	s := newMemSink()
	c, err := h.Connect(id, "", s)
	if err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	t.Cleanup(c.Leave)
	p := peer{c, s}
	if room != "" {
		p.enter(t, protocol.EnterRequest{Room: room, Role: role})
	}
	return p
}

func (p peer) enter(t *testing.T, req protocol.EnterRequest) {
	t.Helper()
	if err := p.Enter(req); err != nil {
		t.Fatalf("%s: enter %+v: %v", p.ID(), req, err)
	}
	if f := p.next(t); f.Event != protocol.EventEntered {
		t.Fatalf("%s: got %s, want entered", p.ID(), f.Event)
	}
}

// bystander sets up a room elsewhere and returns a check that it still
// delivers, in both directions, and received nothing else.
func bystander(t *testing.T, h *Hub) func() {
	t.Helper()
	y := connect(t, h, "bystander-talker", "bystanders", protocol.RoleTalker)
	z := connect(t, h, "bystander-watcher", "bystanders", protocol.RoleWatcher)
	return stillDelivers(t, y, z)
}

// stillDelivers returns a check that talker y and watcher z received
// nothing unexpected and still reach each other.
func stillDelivers(t *testing.T, y, z peer) func() {
	return func() {
		t.Helper()
		y.drained(t)
		z.drained(t)
		if err := y.Message([]byte(`{"type":"talk_ready"}`)); err != nil {
			t.Fatal(err)
		}
		if m := decode(t, z.next(t)); m["type"] != "talk_ready" {
			t.Fatalf("bystander watcher got %v", m)
		}
		if err := z.Message([]byte(`{"type":"talk_request"}`)); err != nil {
			t.Fatal(err)
		}
		if m := decode(t, y.next(t)); m["type"] != "talk_request" {
			t.Fatalf("bystander talker got %v", m)
		}
	}
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

// pending yields what the peer receives before a marker frame queued now.
func (p peer) pending() iter.Seq[*Frame] {
	marker := NewFrame("marker", json.RawMessage(`{}`))
	p.out.push(marker)
	return func(yield func(*Frame) bool) {
		for {
			select {
			case f := <-p.sink.frames:
				if f == marker || !yield(f) {
					return
				}
			case <-time.After(waitFor):
				return
			}
		}
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
		{"talker broadcast reaches every watcher", "a", `{"type":"talk_ready"}`, []string{"b", "c"}, nil},
		{"talker sendto reaches only that watcher", "a", `{"type":"offer","sdp":"v=0","sendto":"b"}`, []string{"b"}, nil},
		{"watcher broadcast reaches only the talker", "b", `{"type":"talk_request"}`, []string{"a"}, nil},
		{"null sendto means the room", "b", `{"type":"talk_request","sendto":null}`, []string{"a"}, nil},
		{"watcher sendto the talker", "b", `{"type":"answer","sdp":"v=0","sendto":"a"}`, []string{"a"}, nil},
		{"watcher sendto another watcher is refused", "b", `{"type":"candidate","sendto":"c"}`, nil, ErrUnknownRecipient},
		{"watcher talk_ready is refused", "b", `{"type":"talk_ready"}`, nil, ErrNotTalker},
		{"watcher offer is refused", "b", `{"type":"offer","sendto":"a"}`, nil, ErrNotTalker},
		{"watcher end_talk is refused", "c", `{"type":"end_talk"}`, nil, ErrNotTalker},
		{"sendto into another room is refused", "a", `{"type":"offer","sendto":"x"}`, nil, ErrUnknownRecipient},
		{"sendto unknown id is refused", "a", `{"type":"offer","sendto":"nobody"}`, nil, ErrUnknownRecipient},
		{"sendto self is refused", "a", `{"type":"offer","sendto":"a"}`, nil, ErrUnknownRecipient},
		{"not an object", "a", `"hello"`, nil, ErrBadMessage},
		{"an array", "a", `[1,2]`, nil, ErrBadMessage},
		{"no type", "a", `{"sdp":"v=0"}`, nil, ErrBadMessage},
		{"type not a string", "a", `{"type":7}`, nil, ErrBadMessage},
		{"unknown type", "a", `{"type":"shout"}`, nil, ErrUnknownType},
		{"sendto not a string", "a", `{"type":"offer","sendto":42}`, nil, ErrBadMessage},
		{"truncated JSON", "a", `{"type":"offer"`, nil, ErrBadMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHub(Options{})
			peers := map[string]peer{
				"a": connect(t, h, "a", "r1", protocol.RoleTalker),
				"b": connect(t, h, "b", "r1", protocol.RoleWatcher),
				"c": connect(t, h, "c", "r1", protocol.RolePlain),
				"x": connect(t, h, "x", "r2", protocol.RoleTalker),
			}
			check := bystander(t, h)
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
			check()
		})
	}
}

func TestMessageKeepsFieldsAndStampsFrom(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "r", protocol.RoleTalker)
	b := connect(t, h, "b", "r", protocol.RoleWatcher)
	if err := b.Message([]byte(` {"from":"a","type":"candidate","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0} `)); err != nil {
		t.Fatal(err)
	}
	f := a.next(t)
	if f.Event != protocol.EventMessage {
		t.Fatalf("event %q, want message", f.Event)
	}
	if n := countKeys(t, f.Data, "from"); n != 1 {
		t.Errorf("%d from fields in %s, want exactly 1", n, f.Data)
	}
	m := decode(t, f)
	want := map[string]any{"from": "b", "type": "candidate", "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0.0}
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
	m, err := parseMessage([]byte(`{"type":"bye"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.stamp([]byte(`"from":"a"`))); got != `{"type":"bye","from":"a"}` {
		t.Errorf("stamp = %s", got)
	}
}

func TestMessageBeforeEnter(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "", protocol.RolePlain)
	connect(t, h, "b", "r", protocol.RoleTalker)
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
		{"Hörsaal 3 (Montag)", true},
		{"team-a_b.c~d:e@f+g#1", true},
		{"講義", true},
		{strings.Repeat("ö", MaxRoomNameRunes), true},
		{"", false},
		{strings.Repeat("r", MaxRoomNameRunes+1), false},
		{" padded", false},
		{"padded ", false},
		{"a/b", false},
		{"<script>", false},
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

func TestParseEnter(t *testing.T) {
	tests := []struct {
		raw     string
		want    protocol.EnterRequest
		wantErr error
	}{
		{`"lecture1"`, protocol.EnterRequest{Room: "lecture1"}, nil},
		{`{"room":"lecture1","role":"talker","key":"k"}`, protocol.EnterRequest{Room: "lecture1", Role: protocol.RoleTalker, Key: "k"}, nil},
		{`{"room":"lecture1","role":"watcher"}`, protocol.EnterRequest{Room: "lecture1", Role: protocol.RoleWatcher}, nil},
		{`{"room":"lecture1","role":"talker","retake":"t"}`, protocol.EnterRequest{Room: "lecture1", Role: protocol.RoleTalker, Retake: "t"}, nil},
		{`{"room":"r","role":"talker","retake":"` + strings.Repeat("t", MaxKeyBytes+1) + `"}`, protocol.EnterRequest{}, ErrBadKey},
		{`{"room":"r","role":"talker","retake":1}`, protocol.EnterRequest{}, ErrBadRoom},
		{`{"room":"lecture1"}`, protocol.EnterRequest{}, ErrBadRoom},
		{`{"room":"lecture1","role":"admin"}`, protocol.EnterRequest{}, ErrBadRoom},
		{`{"room":1,"role":"watcher"}`, protocol.EnterRequest{}, ErrBadRoom},
		{`{"room":"r","role":"watcher","key":7}`, protocol.EnterRequest{}, ErrBadRoom},
		{`{"room":"r","role":"watcher","key":"` + strings.Repeat("k", MaxKeyBytes+1) + `"}`, protocol.EnterRequest{}, ErrBadKey},
		{`{"room":"a/b","role":"watcher"}`, protocol.EnterRequest{}, ErrBadRoom},
		{`42`, protocol.EnterRequest{}, ErrBadRoom},
		{`null`, protocol.EnterRequest{}, ErrBadRoom},
		{``, protocol.EnterRequest{}, ErrBadRoom},
		{`["r"]`, protocol.EnterRequest{}, ErrBadRoom},
	}
	for _, tt := range tests {
		got, err := ParseEnter([]byte(tt.raw))
		if !errors.Is(err, tt.wantErr) || (err == nil && got != tt.want) {
			t.Errorf("ParseEnter(%s) = %+v, %v; want %+v, %v", tt.raw, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDisconnectNotices(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "r", protocol.RoleTalker)
	b := connect(t, h, "b", "r", protocol.RoleWatcher)
	c := connect(t, h, "c", "r", protocol.RoleWatcher)
	x := connect(t, h, "x", "other", protocol.RoleWatcher)
	// A watcher leaving is told to the talker alone, once.
	b.Leave()
	b.Leave() // a transport may report a disconnect twice
	f := a.next(t)
	if f.Event != protocol.EventUserDisconnected || decode(t, f)["id"] != "b" {
		t.Fatalf("got %s %s, want user disconnected {id: b}", f.Event, f.Data)
	}
	a.drained(t)
	c.drained(t)
	if err := b.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher}); !errors.Is(err, ErrClosed) {
		t.Errorf("Enter after Leave = %v, want ErrClosed", err)
	}
	// The talker leaving is told to every watcher, and frees the room.
	a.Leave()
	if f := c.next(t); f.Event != protocol.EventUserDisconnected || decode(t, f)["id"] != "a" {
		t.Fatalf("got %s %s, want user disconnected {id: a}", f.Event, f.Data)
	}
	c.drained(t)
	x.drained(t)
	if got := h.Members("r"); len(got) != 1 || got[0] != "c" {
		t.Errorf("members %v, want [c]", got)
	}
	connect(t, h, "a2", "r", protocol.RoleTalker)
}

func TestEnterMovesRooms(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "r1", protocol.RoleWatcher)
	b := connect(t, h, "b", "r1", protocol.RoleTalker)
	c := connect(t, h, "c", "r2", protocol.RoleTalker)
	a.enter(t, protocol.EnterRequest{Room: "r2", Role: protocol.RoleWatcher})
	if f := b.next(t); f.Event != protocol.EventUserDisconnected {
		t.Fatalf("r1's talker got %s, want user disconnected", f.Event)
	}
	if err := a.Message([]byte(`{"type":"talk_request"}`)); err != nil {
		t.Fatal(err)
	}
	if m := decode(t, c.next(t)); m["type"] != "talk_request" {
		t.Errorf("r2 got %v", m)
	}
	b.drained(t)
	a.enter(t, protocol.EnterRequest{Room: "r2", Role: protocol.RoleWatcher}) // again: no-op but the reply
	c.drained(t)
	if st := h.Stats(); st.Rooms != 2 || st.Clients != 3 || st.Talkers != 2 {
		t.Errorf("stats %+v, want 2 rooms, 3 clients, 2 talkers", st)
	}
	b.Leave()
	if st := h.Stats(); st.Rooms != 1 {
		t.Errorf("an empty room is kept: %+v", st)
	}
}

func TestClosedHubRefusesNewClients(t *testing.T) {
	h := NewHub(Options{})
	a := connect(t, h, "a", "r", protocol.RoleTalker)
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !a.sink.isClosed() {
		t.Error("a client stayed open after Close")
	}
	if _, err := h.Connect("late", "", newMemSink()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Connect after Close = %v, want ErrClosed", err)
	}
}

func TestDuplicateID(t *testing.T) {
	h := NewHub(Options{})
	connect(t, h, "a", "", protocol.RolePlain)
	if _, err := h.Connect("a", "", newMemSink()); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("got %v, want ErrDuplicateID", err)
	}
}

func TestOrderPerSender(t *testing.T) {
	h := NewHub(Options{Limits: Limits{MessagesPerSecond: 1e6, MessageBurst: 1e6}})
	a := connect(t, h, "a", "r", protocol.RoleTalker)
	b := connect(t, h, "b", "r", protocol.RoleWatcher)
	const n = 2000
	for i := range n {
		if err := a.Message(fmt.Appendf(nil, `{"type":"candidate","n":%d}`, i)); err != nil {
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
	a := connect(t, h, "a", "r", protocol.RoleTalker)
	b := connect(t, h, "b", "r", protocol.RoleWatcher)
	a.Error(fmt.Errorf("sendto %q: %w", "zz", ErrUnknownRecipient))
	m := decode(t, a.next(t))
	if m["code"] != "unknown_recipient" || !strings.Contains(m["message"].(string), "zz") {
		t.Errorf("error frame %v", m)
	}
	b.drained(t)
}

func TestEnteredCarriesRoleAndICEServers(t *testing.T) {
	h := NewHub(Options{ICEServers: func(id string) []protocol.ICEServer {
		return []protocol.ICEServer{{URLs: []string{"turn:127.0.0.1:3478"}, Username: "exp:" + id, Credential: "c"}}
	}})
	s := newMemSink()
	c, err := h.Connect("a", "", s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Leave()
	if err := c.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Room       string               `json:"room"`
		Role       protocol.Role        `json:"role"`
		ICEServers []protocol.ICEServer `json:"iceServers"`
	}
	f := (peer{c, s}).next(t)
	if err := json.Unmarshal(f.Data, &got); err != nil || f.Event != protocol.EventEntered {
		t.Fatalf("%s %s: %v", f.Event, f.Data, err)
	}
	if got.Room != "r" || got.Role != protocol.RoleTalker || len(got.ICEServers) != 1 || got.ICEServers[0].Username != "exp:a" {
		t.Errorf("entered %+v", got)
	}
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
	h := NewHub(Options{QueueBytes: 16 << 10, Limits: Limits{MessagesPerSecond: 1e6, MessageBurst: 1e6}})
	stuck := &stuckSink{release: make(chan struct{}), closed: make(chan struct{})}
	frozen, err := h.Connect("frozen", "", stuck)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(frozen.Leave)
	if err := frozen.Enter(protocol.EnterRequest{Room: "busy", Role: protocol.RoleWatcher}); err != nil {
		t.Fatal(err)
	}
	talker := connect(t, h, "talker", "busy", protocol.RoleTalker)
	watcher := connect(t, h, "watcher", "busy", protocol.RoleWatcher)
	check := bystander(t, h)

	payload := fmt.Appendf(nil, `{"type":"candidate","pad":%q}`, strings.Repeat("x", 1000))
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
	// The other watcher gets every message and no notice: watchers do not
	// hear of each other. The talker hears of the eviction.
	for range sent {
		if f := watcher.next(t); f.Event != protocol.EventMessage {
			t.Fatalf("watcher got %s %s", f.Event, f.Data)
		}
	}
	watcher.drained(t)
	if f := talker.next(t); f.Event != protocol.EventUserDisconnected || decode(t, f)["id"] != "frozen" {
		t.Errorf("talker got %s %s, want the notice", f.Event, f.Data)
	}
	talker.drained(t)
	check()
	if got := h.Members("busy"); len(got) != 2 {
		t.Errorf("busy members %v, want talker and watcher", got)
	}
}
