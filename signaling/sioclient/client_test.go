package sioclient

import (
	"errors"
	"testing"
)

func TestEndpoint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://localhost:8080", "ws://localhost:8080/socket.io/?EIO=3&transport=websocket"},
		{"https://example.org/live/", "wss://example.org/live/socket.io/?EIO=3&transport=websocket"},
		{"ws://127.0.0.1:1", "ws://127.0.0.1:1/socket.io/?EIO=3&transport=websocket"},
	}
	for _, tt := range tests {
		got, err := endpoint(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("endpoint(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := endpoint("ftp://x"); err == nil {
		t.Error("endpoint(ftp://x): want an error")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		name    string
		args    int
		ok      bool
		wantErr error
	}{
		{`42["message",{"type":"offer"}]`, "message", 1, true, nil},
		{`42["user disconnected",{"id":"a"},2]`, "user disconnected", 2, true, nil},
		{`42["noargs"]`, "noargs", 0, true, nil},
		{`3`, "", 0, false, nil},  // pong
		{`40`, "", 0, false, nil}, // connect
		{`6`, "", 0, false, nil},  // noop
		{`42[1]`, "", 0, false, ErrProtocol},
		{`42[""]`, "", 0, false, ErrProtocol},
		{`42{`, "", 0, false, ErrProtocol},
		{`41`, "", 0, false, ErrClosed},
		{`1`, "", 0, false, ErrClosed},
	}
	for _, tt := range tests {
		ev, ok, err := parse([]byte(tt.in))
		if !errors.Is(err, tt.wantErr) || ok != tt.ok || ev.Name != tt.name || len(ev.Args) != tt.args {
			t.Errorf("parse(%s) = %+v, %v, %v", tt.in, ev, ok, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`42["message",{"type":"offer"}]`, `3`, `40`, `42[1]`, `0{"sid":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		ev, ok, err := parse(p)
		if ok && (err != nil || ev.Name == "") {
			t.Fatalf("parse(%q) = %+v, %v, %v", p, ev, ok, err)
		}
	})
}
