package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/redistest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// starter is a signaling.RelayStarter that records the rooms asked for.
type starter chan string

func (s starter) StartRelay(room string) error {
	select {
	case s <- room:
	default:
	}
	return nil
}

// The relay on the talker's node serves a watcher on another node: the
// talker's reject for it is handed to the relay, the relay's offer and
// candidates reach it stamped, its answer and candidates reach the relay,
// and it hears the relay leave.
func TestRelayAcrossNodes(t *testing.T) {
	rs := redistest.Start(t)
	start := make(starter, 4)
	const secret = "relay-secret"
	n1 := startNodeWith(t, rs.URL(), signaling.Options{Relay: start, RelaySecret: secret})
	n2 := startNodeWith(t, rs.URL(), signaling.Options{Relay: start, RelaySecret: secret})

	talker := n1.join(t, "a", protocol.RoleTalker)
	w := n2.join(t, "a", protocol.RoleWatcher)
	bystander := n2.join(t, "a", protocol.RoleWatcher)
	w.send(`{"type":"talk_request"}`)
	talker.want(protocol.EventMessage, w.c.ID())
	talker.send(fmt.Sprintf(`{"type":"talk_reject","reason":"full","sendto":%q}`, w.c.ID()))
	select {
	case room := <-start:
		if room != "a" {
			t.Fatalf("relay started for %q", room)
		}
	case <-time.After(wait):
		t.Fatal("no relay started")
	}
	relay, err := n1.enterWith(t, protocol.EnterRequest{Room: "a", Role: protocol.RoleRelay, Key: secret})
	if err != nil {
		t.Fatal(err)
	}
	relay.want(protocol.EventMessage, `"from":"`+w.c.ID()+`"`)

	relay.send(fmt.Sprintf(`{"type":"offer","sdp":"v=0","sendto":%q}`, w.c.ID()))
	relay.send(fmt.Sprintf(`{"type":"candidate","candidate":"c","sendto":%q}`, w.c.ID()))
	for _, typ := range []string{"offer", "candidate"} {
		if m := w.want(protocol.EventMessage, typ); m["relay"] != true || m["from"] != relay.c.ID() {
			t.Fatalf("watcher got %v, want the relay's %s", m, typ)
		}
	}
	w.send(fmt.Sprintf(`{"type":"answer","sdp":"v=0","sendto":%q}`, relay.c.ID()))
	w.send(fmt.Sprintf(`{"type":"candidate","candidate":"d","sendto":%q}`, relay.c.ID()))
	for _, typ := range []string{"answer", "candidate"} {
		if m := relay.want(protocol.EventMessage, typ); m["from"] != w.c.ID() || m["relay"] != nil {
			t.Fatalf("relay got %v, want the watcher's %s", m, typ)
		}
	}
	// The relay's leaving reaches every member on the other node.
	relay.c.Leave()
	w.want(protocol.EventUserDisconnected, relay.c.ID())
	bystander.want(protocol.EventUserDisconnected, relay.c.ID())
	talker.want(protocol.EventUserDisconnected, relay.c.ID())
}
