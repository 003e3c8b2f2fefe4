package cluster

import (
	"errors"
	"strings"
	"testing"
)

func TestViewOrdersEventsAndSnapshots(t *testing.T) {
	const self = "me"
	v := newView()
	// Events before the first snapshot wait for it; those it already has
	// are skipped after it.
	v.apply("r", event{Kind: "j", Node: "n2", Socket: "w1", Ver: 2, Prev: 1}, self)
	v.apply("r", event{Kind: "j", Node: "n2", Socket: "w2", Ver: 3, Prev: 2}, self)
	if len(v.members) != 0 {
		t.Fatalf("members before a snapshot: %v", v.members)
	}
	gone := v.replace("r", snapshot{ver: 2, talker: "t", members: map[string]string{"t": self, "w1": "n2"}}, self, false)
	if len(gone) != 0 || v.ver != 3 || v.members["w2"] != "n2" || v.remote != 2 || v.talker != "t" {
		t.Fatalf("after snapshot at 2 and early event 3: ver %d members %v remote %d gone %v", v.ver, v.members, v.remote, gone)
	}
	// A stale snapshot changes nothing; a stale event neither.
	if gone := v.replace("r", snapshot{ver: 1, members: map[string]string{}}, self, false); gone != nil || len(v.members) != 3 {
		t.Fatalf("stale snapshot applied: %v %v", gone, v.members)
	}
	if d, gap := v.apply("r", event{Kind: "l", Node: "n2", Socket: "w1", Ver: 3, Prev: 2}, self); d != nil || gap || v.members["w1"] == "" {
		t.Fatal("stale departure applied")
	}
	// A departure of another node's member is announced; a gap asks for
	// a snapshot.
	d, gap := v.apply("r", event{Kind: "l", Node: "n2", Socket: "w1", Ver: 4, Prev: 3}, self)
	if d == nil || d.id != "w1" || d.talker || gap || v.remote != 1 {
		t.Fatalf("departure: %+v gap %v remote %d", d, gap, v.remote)
	}
	// Versions come from a cluster-wide counter: they increase, not one by
	// one; an event names the version before it.
	if _, gap := v.apply("r", event{Kind: "j", Node: "n2", Socket: "w3", Ver: 7, Prev: 4}, self); gap || v.members["w3"] != "n2" {
		t.Fatalf("event after 4 at 7: gap %v members %v", gap, v.members)
	}
	if _, gap := v.apply("r", event{Kind: "t", Node: "n2", Socket: "w2", Ver: 8, Prev: 7}, self); gap {
		t.Fatal("event after 7 at 8 taken for a gap")
	}
	v.apply("r", event{Kind: "l", Node: "n2", Socket: "w3", Ver: 9, Prev: 8}, self)
	if _, gap := v.apply("r", event{Kind: "t", Node: "n2", Socket: "w2", Ver: 12, Prev: 10}, self); !gap || v.talker != "w2" {
		t.Fatalf("gap %v talker %q", gap, v.talker)
	}
	// A newer snapshot that lacks a member (and the talker) announces them.
	gone = v.replace("r", snapshot{ver: 19, members: map[string]string{"t": self}}, self, false)
	if len(gone) != 1 || gone[0].id != "w2" || !gone[0].talker || v.remote != 0 {
		t.Fatalf("gone %v remote %d", gone, v.remote)
	}
	// After Redis restarts, versions start again: a forced snapshot wins.
	v.replace("r", snapshot{ver: 1, members: map[string]string{"t": self, "x": "n3"}}, self, true)
	if v.ver != 1 || v.members["x"] != "n3" {
		t.Fatalf("forced snapshot not taken: ver %d %v", v.ver, v.members)
	}
}

func TestNewHidesPasswordOfBadURL(t *testing.T) {
	_, err := New(Options{URL: "redis://user:s3cret@host:notaport/0"})
	if !errors.Is(err, ErrBadURL) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v, want ErrBadURL without the password", err)
	}
}

func TestMessageEnvelope(t *testing.T) {
	data := []byte(`{"type":"offer","sdp":"v=0\r\n","from":"abc"}`)
	p := encodeMessage("node1", "room-1", "sock", data)
	node, room, to, got, ok := decodeMessage(p)
	if !ok || node != "node1" || room != "room-1" || to != "sock" || string(got) != string(data) {
		t.Fatalf("decoded %q %q %q %q %v", node, room, to, got, ok)
	}
	if _, _, to, _, ok := decodeMessage(encodeMessage("n", "r", "", data)); !ok || to != "" {
		t.Fatal("a room broadcast does not round-trip")
	}
	for _, bad := range []string{`{"k":"j","n":"x","s":"y","t":false,"v":1}`, "m", "m\x00n\x00r", ""} {
		if _, _, _, _, ok := decodeMessage([]byte(bad)); ok {
			t.Errorf("%q decoded as a message", bad)
		}
	}
}
