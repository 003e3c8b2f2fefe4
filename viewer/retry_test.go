package viewer_test

import (
	"context"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/rtctest"
	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/viewer"
)

// A talker played by hand drops the viewer's first talk_request and never
// takes its answer, as if both were lost between nodes: the viewer asks
// again by itself, answers a repeated offer with the same connection, and
// repeats its answer while the media connection is not up.
func TestRetriesWhatWasNotHeard(t *testing.T) {
	url := serve(t)
	tk := sigtest.Enter(t, url, protocol.EnterRequest{Room: "lossy", Role: protocol.RoleTalker})
	v := viewer.New(viewer.Options{Server: url, Room: "lossy", Retry: 300 * time.Millisecond, WaitTalker: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		st  viewer.Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := v.Run(ctx)
		done <- result{st, err}
	}()

	first := tk.Next(protocol.TypeTalkRequest) // dropped
	if again := tk.Next(protocol.TypeTalkRequest); again.From != first.From {
		t.Fatalf("talk_request from %s, want %s", again.From, first.From)
	}

	_, offer := rtctest.Talker(t)
	send := func() { tk.Send(map[string]any{"type": protocol.TypeOffer, "sdp": offer.SDP, "sendto": first.From}) }
	send()
	answer := rtc.ICEUfrag(tk.Next(protocol.TypeAnswer).SDP)
	if answer == "" {
		t.Fatal("answer without an ice-ufrag")
	}
	send() // as if the answer were lost
	if u := rtc.ICEUfrag(tk.Next(protocol.TypeAnswer).SDP); u != answer {
		t.Fatalf("answer to the repeated offer has ice-ufrag %q, want %q: a new connection", u, answer)
	}
	if u := rtc.ICEUfrag(tk.Next(protocol.TypeAnswer).SDP); u != answer { // unasked
		t.Fatalf("repeated answer has ice-ufrag %q, want %q", u, answer)
	}

	cancel()
	r := <-done
	if r.err != nil || r.st.Ended != "stopped" {
		t.Fatalf("viewer: %+v, %v", r.st, r.err)
	}
}
