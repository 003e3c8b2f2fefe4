package broadcaster_test

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/rtctest"
	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/internal/talkertest"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// A watcher that asks again before answering gets the same offer again, and
// a repeated answer is taken as the one already taken: the watcher is
// served, not dropped. This is what a watcher does when it cannot tell
// whether its messages were heard.
func TestRepeatedRequestAndAnswer(t *testing.T) {
	media := testmedia.Make(t, 2)
	url, _ := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	w := sigtest.Enter(t, url, protocol.EnterRequest{Room: "lossy", Role: protocol.RoleWatcher})

	b, _ := talkertest.OnAir(t, broadcaster.Options{Server: url, Room: "lossy", Video: media.VP8})
	talker := w.Next(protocol.TypeTalkReady).From

	var candidates []protocol.Message
	offer := func() protocol.Message {
		for {
			m := w.Next(protocol.TypeOffer, protocol.TypeCandidate)
			if m.Type == protocol.TypeOffer {
				return m
			}
			candidates = append(candidates, m)
		}
	}
	w.Send(map[string]any{"type": protocol.TypeTalkRequest, "sendto": talker})
	first := offer()
	w.Send(map[string]any{"type": protocol.TypeTalkRequest, "sendto": talker}) // as if the offer were lost
	second := offer()
	if u := rtc.ICEUfrag(first.SDP); u == "" || rtc.ICEUfrag(second.SDP) != u {
		t.Fatalf("second offer's ice-ufrag %q, want the first's %q", rtc.ICEUfrag(second.SDP), u)
	}

	pc := rtctest.Peer(t)
	packets := make(chan struct{})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for n := 0; ; n++ {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			if n == 30 {
				close(packets)
			}
		}
	})
	ours := make(chan protocol.Candidate, 100) // pion trickles on a goroutine of its own
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			select {
			case ours <- rtc.CandidateMessage(c, talker):
			default: // never blocks pion; the host candidates come first
			}
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: second.SDP}); err != nil {
		t.Fatal(err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second as if the watcher could not tell the first was heard
		w.Send(map[string]any{"type": protocol.TypeAnswer, "sdp": answer.SDP, "sendto": talker})
	}
	for _, c := range candidates {
		if err := pc.AddICECandidate(rtc.ICECandidate(c)); err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case c := <-ours:
			w.Send(c)
		case <-packets:
			if n := b.Watchers(); n != 1 {
				t.Fatalf("talker serves %d watchers, want 1", n)
			}
			return
		case <-timeout:
			t.Fatalf("no video within 20 s; connection %s", pc.ConnectionState())
		}
	}
}
