package relay

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/protocol"
)

// rig is a room in the hub: a talker played by the test, the relay, and
// watchers the test adds.
type rig struct {
	t      *testing.T
	ctx    context.Context
	hub    *hub
	talker *testTalker
	room   *Room
	ran    chan error // Run's return
}

// newRig starts a talker and the relay on cfg; the test's cleanup stops
// them.
func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	return newRigWith(t, cfg, false)
}

// newRigWith is newRig with a talker that sends no audio if muteAudio.
func newRigWith(t *testing.T, cfg Config, muteAudio bool) *rig {
	t.Helper()
	return newRigSetUp(t, cfg, func(tt *testTalker) { tt.muteAudio = muteAudio })
}

// newRigSetUp is newRig with the talker set up by setup before it starts.
func newRigSetUp(t *testing.T, cfg Config, setup func(*testTalker)) *rig {
	t.Helper()
	frames := testmedia.IVFFrames(t, testmedia.Make(t, 2).VP8)
	eng, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := newHub(t)
	r := &rig{t: t, ctx: ctx, hub: h, ran: make(chan error, 1)}
	r.talker = newTestTalker(t, h.join("talker", true), frames)
	setup(r.talker)
	r.talker.start(ctx)
	r.room = NewRoom(eng, h.join("relay", false))
	go func() { r.ran <- r.room.Run(ctx, session.Entered{Room: "room"}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.ran:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
		r.talker.stop()
		if err := eng.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// watch adds a watcher that asks the relay for the stream.
func (r *rig) watch(id string) *testWatcher {
	r.t.Helper()
	w := newTestWatcher(r.t, r.hub.join(id, false), "relay")
	w.start(r.ctx)
	r.t.Cleanup(w.stop)
	return w
}

// within fails the test unless ch is closed within d.
func within(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("no %s within %v", what, d)
	}
}

// eventually polls cond until it holds, failing the test after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRelayServesWatchers: three watchers get the talker's video and audio
// through the relay, each starting on a keyframe, with SSRCs of their own
// and no sequence number missing; the talker serves one stream.
func TestRelayServesWatchers(t *testing.T) {
	r := newRig(t, Config{})
	stats := r.hub.relayStats("talker")
	ws := []*testWatcher{r.watch("w1"), r.watch("w2"), r.watch("w3")}
	for _, w := range ws {
		within(t, w.enough, 20*time.Second, w.m.id+"'s media")
	}
	for n := waitStats(t, stats); n != 3; n = waitStats(t, stats) {
	}
	for _, w := range ws {
		if !w.firstKeyframe() {
			t.Errorf("%s: the first video packet does not begin a keyframe", w.m.id)
		}
		w.mu.Lock()
		ssrc, wrong := w.trackSSRC, w.wrongSSRC
		w.mu.Unlock()
		if ssrc == r.talker.ssrc.Load() || wrong != 0 {
			t.Errorf("%s: SSRC %d (talker's %d), %d packets of another", w.m.id, ssrc, r.talker.ssrc.Load(), wrong)
		}
		if n := w.holes(50); n != 0 {
			t.Errorf("%s: %d sequence numbers missing", w.m.id, n)
		}
		t.Logf("%s: first video packet %v after asking", w.m.id, w.firstAt.Sub(w.asked).Round(time.Millisecond))
	}
	r.talker.mu.Lock()
	streams := len(r.talker.pcs)
	r.talker.mu.Unlock()
	if streams != 1 {
		t.Errorf("the talker serves %d streams, want 1 (the relay's)", streams)
	}
	st := r.room.Stats()
	// A watcher that came before the relay had a keyframe cached asked the
	// talker for one; those after start on the cached group of pictures.
	if st.Watchers != 3 || st.Started != 3 || st.KeyframeStarts != 3 || st.Packets == 0 || (st.PLIs == 0 && st.GOPReplays < st.Started) {
		t.Errorf("stats %+v", st)
	}
	t.Logf("stats %+v; mean wait for the first packet from the media path up: %v", st, st.FirstPacketWait/time.Duration(st.Started))
}

// TestLateWatcherStartsOnKeyframe: a watcher joining a relay already
// forwarding to another starts, with no group of pictures cached, on a
// keyframe asked for by PLI, well before the talker's next periodic one.
func TestLateWatcherStartsOnKeyframe(t *testing.T) {
	r := newRig(t, Config{GOPCacheBytes: -1})
	first := r.watch("w1")
	within(t, first.enough, 20*time.Second, "the first watcher's media")
	for len(r.talker.plis) > 0 {
		<-r.talker.plis
	}
	late := r.watch("w2")
	within(t, late.enough, 20*time.Second, "the late watcher's media")
	if !late.firstKeyframe() {
		t.Error("the late watcher's first video packet does not begin a keyframe")
	}
	if len(r.talker.plis) == 0 {
		t.Error("no PLI reached the talker for the late watcher")
	}
	st := r.room.Stats()
	t.Logf("late watcher: first video packet %v after asking; relay: %+v", late.firstAt.Sub(late.asked).Round(time.Millisecond), st)
}

// TestWatcherPLIsMerged: a watcher's PLIs reach the talker at most once
// per DefaultKeyframeInterval, however often it sends them.
func TestWatcherPLIsMerged(t *testing.T) {
	r := newRig(t, Config{})
	w := r.watch("w1")
	within(t, w.enough, 20*time.Second, "media")
	// Drain the PLIs of the watcher's start, and wait out their interval.
	drained := time.After(DefaultKeyframeInterval + 100*time.Millisecond)
	for draining := true; draining; {
		select {
		case <-r.talker.plis:
		case <-drained:
			draining = false
		}
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	end := time.After(1300 * time.Millisecond)
	sent := 0
	for sending := true; sending; {
		select {
		case <-tick.C:
			if err := w.pli(); err != nil {
				t.Fatal(err)
			}
			sent++
		case <-end:
			sending = false
		}
	}
	var at []time.Time
	for collecting := true; collecting; {
		select {
		case ts := <-r.talker.plis:
			at = append(at, ts)
		case <-time.After(300 * time.Millisecond):
			collecting = false
		}
	}
	if len(at) < 2 || len(at) > 3 {
		t.Fatalf("%d PLIs sent over 1.3 s reached the talker %d times, want 2 or 3", sent, len(at))
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < DefaultKeyframeInterval-100*time.Millisecond {
			t.Errorf("PLIs %v apart at the talker", gap)
		}
	}
}

// TestRelayFull: past Config.MaxWatchers a watcher gets talk_reject full.
func TestRelayFull(t *testing.T) {
	r := newRig(t, Config{MaxWatchers: 1})
	w1 := r.watch("w1")
	within(t, w1.offered, 20*time.Second, "offer")
	w2 := r.watch("w2")
	select {
	case reason := <-w2.rejects:
		if reason != protocol.RejectFull {
			t.Fatalf("reason %q, want %q", reason, protocol.RejectFull)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no talk_reject")
	}
	if n := r.room.Watchers(); n != 1 {
		t.Errorf("%d watchers, want 1", n)
	}
}

// TestOfferTimeout: a watcher that never answers is dropped with
// talk_reject timeout; a repeated talk_request meanwhile gets the same
// offer (its session, with the candidates gathered since).
func TestOfferTimeout(t *testing.T) {
	r := newRig(t, Config{OfferTimeout: 2 * time.Second})
	m := r.hub.join("mute", false)
	ask := func() {
		if err := m.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: "relay"}}); err != nil {
			t.Fatal(err)
		}
	}
	ask()
	var offers []string
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-m.events:
			msg, ok := ev.(session.Message)
			if !ok {
				continue
			}
			switch msg.Type {
			case protocol.TypeOffer:
				offers = append(offers, msg.SDP)
				if len(offers) == 1 {
					ask()
				}
				continue
			case protocol.TypeTalkReject:
				if msg.Reason != protocol.RejectTimeout {
					t.Fatalf("reason %q, want %q", msg.Reason, protocol.RejectTimeout)
				}
			default:
				continue
			}
		case <-deadline:
			t.Fatal("no talk_reject")
		}
		break
	}
	if len(offers) != 2 || rtc.ICEUfrag(offers[0]) != rtc.ICEUfrag(offers[1]) {
		t.Errorf("%d offers, the repeat the same session: %v", len(offers), len(offers) == 2 && rtc.ICEUfrag(offers[0]) == rtc.ICEUfrag(offers[1]))
	}
	if n := r.room.Watchers(); n != 0 {
		t.Errorf("%d watchers after the timeout, want 0", n)
	}
}

// TestBye: a watcher's bye frees its place and detaches it from the
// talker's tracks.
func TestBye(t *testing.T) {
	r := newRig(t, Config{})
	w := r.watch("w1")
	within(t, w.enough, 20*time.Second, "media")
	if err := w.m.Send(protocol.Bye{Head: protocol.Head{Type: protocol.TypeBye, Sendto: "relay"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "dropped", func() bool { return r.room.Watchers() == 0 })
	r.room.mu.Lock()
	defer r.room.mu.Unlock()
	for _, tr := range r.room.tracks {
		for _, up := range tr.layers.all() {
			if n := up.Watchers(); n != 0 {
				t.Errorf("%s: %d downstreams still attached", tr.kind, n)
			}
		}
	}
}

// TestTalkerEndsRelay: end_talk from the talker ends Run, and with it the
// watchers' media connections.
func TestTalkerEndsRelay(t *testing.T) {
	r := newRig(t, Config{})
	w := r.watch("w1")
	within(t, w.enough, 20*time.Second, "media")
	if err := r.talker.m.Send(protocol.EndTalk{Head: protocol.Head{Type: protocol.TypeEndTalk}}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.ran:
		if !errors.Is(err, ErrTalkerLeft) {
			t.Fatalf("Run = %v, want ErrTalkerLeft", err)
		}
		r.ran <- err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	eventually(t, 10*time.Second, "the watcher's connection closed", func() bool {
		s := w.peerConnection().ConnectionState()
		return s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateDisconnected || s == webrtc.PeerConnectionStateFailed
	})
}

// TestTalkerLeftWithoutMedia: the talker's socket leaving before it was
// heard ends the relay when its offer does not come within OfferTimeout.
func TestTalkerLeftWithoutMedia(t *testing.T) {
	h := newHub(t)
	eng, err := NewEngine(Config{OfferTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	h.join("talker", true)
	room := NewRoom(eng, h.join("relay", false))
	h.leave("talker")
	ran := make(chan error, 1)
	go func() { ran <- room.Run(context.Background(), session.Entered{}) }()
	select {
	case err := <-ran:
		if !errors.Is(err, ErrTalkerLeft) {
			t.Fatalf("Run = %v, want ErrTalkerLeft", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the relay waits on a talker that never offers")
	}
}

// TestTalkerResumes: the talker's socket leaves with its media up and comes
// back under a new id; the relay asks it to resume its session (the ice-ufrag
// of its offer), and once resumed reports to it and goes on.
func TestTalkerResumes(t *testing.T) {
	r := newRig(t, Config{})
	w := r.watch("w1")
	within(t, w.enough, 20*time.Second, "media")
	r.talker.mu.Lock()
	ufrag := rtc.ICEUfrag(r.talker.pcs["relay"].pc.LocalDescription().SDP)
	r.talker.mu.Unlock()

	r.hub.leave("talker")
	back := r.hub.join("talker2", true)
	stats := r.hub.relayStats("talker2")
	if err := back.Send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady}}); err != nil {
		t.Fatal(err)
	}
	for asked := false; !asked; {
		select {
		case ev := <-back.events:
			if m, ok := ev.(session.Message); ok && m.Type == protocol.TypeTalkRequest && m.From == "relay" {
				if m.Resume != ufrag {
					t.Fatalf("resume %q, want the offer's ice-ufrag %q", m.Resume, ufrag)
				}
				asked = true
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the relay did not ask to resume")
		}
	}
	if err := back.Send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady, Sendto: "relay"}, Resumed: true}); err != nil {
		t.Fatal(err)
	}
	if n := waitStats(t, stats); n != 1 {
		t.Errorf("relayWatchers %d, want 1", n)
	}
	select {
	case err := <-r.ran:
		t.Fatalf("Run returned %v", err)
	default:
	}
}

// TestWatcherRTCP: a watcher's NACK is answered from the relay's buffer,
// and the watcher gets sender reports for its own SSRC, in its timeline.
func TestWatcherRTCP(t *testing.T) {
	r := newRig(t, Config{})
	w := r.watch("w1")
	within(t, w.enough, 20*time.Second, "media")
	if err := w.nack(10); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the NACKed packet sent again", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.dups > 0
	})
	if n := r.room.Stats().NACKsServed; n == 0 {
		t.Error("no NACK counted as served")
	}
	select {
	case sr := <-w.srs:
		w.mu.Lock()
		ssrc, firstTS := w.trackSSRC, w.first.Timestamp
		w.mu.Unlock()
		if sr.SSRC != ssrc {
			t.Errorf("sender report for SSRC %d, want %d", sr.SSRC, ssrc)
		}
		if d := sr.RTPTime - firstTS; d > 90000*30 {
			t.Errorf("sender report's RTP time %d is %d ticks from the first packet's", sr.RTPTime, d)
		}
	case <-time.After(3 * senderReportEvery):
		t.Fatal("no sender report")
	}
}

// TestWatcherLeftIsDropped: a watcher's socket leaving with its media up
// frees its place once protocol.ResumeGrace passes without it coming back.
func TestWatcherLeftIsDropped(t *testing.T) {
	r := newRig(t, Config{})
	w := r.watch("w1")
	within(t, w.enough, 20*time.Second, "media")
	left := time.Now()
	r.hub.leave("w1")
	eventually(t, protocol.ResumeGrace+5*time.Second, "dropped", func() bool { return r.room.Watchers() == 0 })
	if d := time.Since(left); d < protocol.ResumeGrace {
		t.Errorf("dropped %v after it left, before ResumeGrace", d)
	}
	select {
	case err := <-r.ran:
		t.Fatalf("Run returned %v", err)
	default:
	}
}

// TestTalkerNotBack: the talker's socket leaving with its media up ends
// the relay once protocol.ResumeGrace passes without it coming back.
func TestTalkerNotBack(t *testing.T) {
	r := newRig(t, Config{})
	w := r.watch("w1")
	within(t, w.enough, 20*time.Second, "media")
	left := time.Now()
	r.hub.leave("talker")
	select {
	case err := <-r.ran:
		if !errors.Is(err, ErrTalkerLeft) {
			t.Fatalf("Run = %v, want ErrTalkerLeft", err)
		}
		if d := time.Since(left); d < protocol.ResumeGrace {
			t.Errorf("ended %v after the talker left, before ResumeGrace", d)
		}
		r.ran <- err
	case <-time.After(protocol.ResumeGrace + 10*time.Second):
		t.Fatal("Run did not return")
	}
}

// TestTrackThatNeverSends: a track of the talker's offer that sends no
// packet (muted audio) does not hold the watchers up: after tracksWait
// they are served the video.
func TestTrackThatNeverSends(t *testing.T) {
	r := newRigWith(t, Config{}, true)
	w := r.watch("w1")
	w.mu.Lock()
	w.wantAudio = 0
	w.mu.Unlock()
	within(t, w.enough, 20*time.Second, "video")
	if !w.firstKeyframe() {
		t.Error("the first video packet does not begin a keyframe")
	}
}
