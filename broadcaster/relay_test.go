package broadcaster

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// syncBuffer is a log sink safe for pion's goroutines and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A talker at its maximum of watchers still serves the room's relay (a
// talk_request stamped relay: true), whose one stream feeds many, and the
// relay takes no watcher's place: the next watcher is refused full all the
// same.
//
// The test is the talker's signaling loop, stamping the relay's request as
// the server does; the relay is played by a socket in the watcher role, as
// the server the test runs admits no relay of its own.
func TestRelayServedBeyondMaxWatchers(t *testing.T) {
	media := testmedia.Make(t, 2)
	url, _ := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	w1 := sigtest.Enter(t, url, protocol.EnterRequest{Room: "big", Role: protocol.RoleWatcher})
	relay := sigtest.Enter(t, url, protocol.EnterRequest{Room: "big", Role: protocol.RoleWatcher})
	w2 := sigtest.Enter(t, url, protocol.EnterRequest{Room: "big", Role: protocol.RoleWatcher})

	var logs syncBuffer
	b, err := New(Options{Server: url, Room: "big", Video: media.VP8, MaxWatchers: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.closeSources()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, entered, err := session.Open(ctx, session.Config{Server: url, Enter: protocol.EnterRequest{Room: "big", Role: protocol.RoleTalker}})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	b.sess = sess
	defer b.closePeers()
	b.onAir(entered)
	talker := w1.Next(protocol.TypeTalkReady).From

	// serveNext hands the talker the next talk_request it hears, stamped
	// relay: true if stamp.
	serveNext := func(stamp bool) {
		t.Helper()
		for {
			select {
			case ev := <-sess.Events():
				m, ok := ev.(session.Message)
				if !ok || m.Type != protocol.TypeTalkRequest {
					continue
				}
				m.Relay = stamp
				b.handle(m.Message)
				return
			case <-ctx.Done():
				t.Fatal("no talk_request within 20 s")
			}
		}
	}
	request := map[string]any{"type": protocol.TypeTalkRequest, "sendto": talker}

	w1.Send(request)
	serveNext(false)
	if m := w1.Next(protocol.TypeOffer, protocol.TypeTalkReject); m.Type != protocol.TypeOffer {
		t.Fatalf("first watcher got %s %q, want an offer", m.Type, m.Reason)
	}
	relay.Send(request)
	serveNext(true)
	if m := relay.Next(protocol.TypeOffer, protocol.TypeTalkReject); m.Type != protocol.TypeOffer {
		t.Fatalf("relay got %s %q at the talker's maximum, want an offer", m.Type, m.Reason)
	}
	w2.Send(request)
	serveNext(false)
	if m := w2.Next(protocol.TypeOffer, protocol.TypeTalkReject); m.Type != protocol.TypeTalkReject || m.Reason != protocol.RejectFull {
		t.Fatalf("second watcher got %s %q, want talk_reject full", m.Type, m.Reason)
	}
	if n, direct := b.Watchers(), b.directWatchers(); n != 2 || direct != 1 {
		t.Errorf("talker serves %d watchers, %d direct; want 2, 1", n, direct)
	}
	if !strings.Contains(logs.String(), "relay joined") {
		t.Errorf("no \"relay joined\" record in the talker's log:\n%s", logs.String())
	}
}
