package viewer_test

import (
	"context"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/viewer"
)

// A talker played by hand puts the viewer in its queue (talk_reject
// {reason: "full", position}), as talk.html does with the server's relay
// off: the viewer does not end with ErrRoomFull, waits past WaitTalker,
// and asks again by itself, which keeps its place; the talker going off
// air ends the wait.
func TestWaitsInTheTalkersQueue(t *testing.T) {
	url := serve(t)
	tk := sigtest.Enter(t, url, protocol.EnterRequest{Room: "queue", Role: protocol.RoleTalker})
	v := viewer.New(viewer.Options{Server: url, Room: "queue", Retry: 300 * time.Millisecond, WaitTalker: 500 * time.Millisecond})
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
	start := time.Now()
	for i := 0; ; i++ {
		m := tk.Next(protocol.TypeTalkRequest)
		tk.Send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: m.From}, Reason: protocol.RejectFull, Position: 2})
		// Asked again after WaitTalker, and still waiting.
		if i >= 2 && time.Since(start) > time.Second {
			break
		}
	}
	select {
	case r := <-done:
		t.Fatalf("in line, the viewer ended: %+v, %v", r.st, r.err)
	default:
	}
	// The talker going off air ends the wait.
	tk.Send(protocol.EndTalk{Head: protocol.Head{Type: protocol.TypeEndTalk}})
	if r := <-done; r.err != nil || r.st.Ended != "talker_left" {
		t.Fatalf("the talker went off air while in line: %+v, %v; want talker_left", r.st, r.err)
	}
}
