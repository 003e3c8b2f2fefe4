package signaling

import (
	"bytes"
	"net"
	"testing"
)

// countConn records each Write it gets.
type countConn struct {
	net.Conn
	writes [][]byte
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func TestCorkGathersWrites(t *testing.T) {
	under := &countConn{}
	c := &corkConn{Conn: under}
	if _, err := c.Write([]byte("a")); err != nil || len(under.writes) != 1 {
		t.Fatalf("uncorked write: %v, %d writes; want it written through", err, len(under.writes))
	}
	c.cork()
	for _, s := range []string{"b", "c", "d"} {
		if n, err := c.Write([]byte(s)); n != 1 || err != nil {
			t.Fatalf("corked write = %d, %v", n, err)
		}
	}
	if len(under.writes) != 1 {
		t.Fatalf("%d writes while corked, want none yet", len(under.writes)-1)
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	if len(under.writes) != 2 || string(under.writes[1]) != "bcd" {
		t.Fatalf("writes %q, want one write of bcd", under.writes)
	}
	// A large backlog leaves in chunks of about corkFlushBytes.
	c.cork()
	chunk := bytes.Repeat([]byte("x"), 1000)
	for range 200 {
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, w := range under.writes[2:] {
		total += len(w)
		if len(w) > corkFlushBytes+len(chunk) {
			t.Errorf("a write of %d bytes", len(w))
		}
	}
	if total != 200*len(chunk) || len(under.writes[2:]) != 200*len(chunk)/corkFlushBytes+1 {
		t.Errorf("%d writes of %d bytes in all", len(under.writes[2:]), total)
	}
}
