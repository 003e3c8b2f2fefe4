package watchers

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/rtctest"
	"github.com/broadcast-service/broadcast/protocol"
)

// fakePeer is a Peer whose PeerConnection offers one data channel, and
// which counts its Live and Close calls.
type fakePeer struct {
	pc     *webrtc.PeerConnection
	lives  atomic.Int32
	live   chan struct{} // a token per Live
	closes atomic.Int32
}

func (p *fakePeer) PeerConnection() *webrtc.PeerConnection { return p.pc }
func (p *fakePeer) Live()                                  { p.lives.Add(1); p.live <- struct{}{} }
func (p *fakePeer) Close()                                 { p.closes.Add(1) }

// rig is a Table of fakePeers whose sent messages the test reads.
type rig struct {
	t     *testing.T
	table *Table[*fakePeer]
	sent  chan protocol.Typed // all but candidates
	cands chan protocol.Candidate
	made  chan *fakePeer
	left  chan string
}

func newRig(t *testing.T, cfg Config[*fakePeer]) *rig {
	t.Helper()
	r := &rig{
		t: t, sent: make(chan protocol.Typed, 64), cands: make(chan protocol.Candidate, 64),
		made: make(chan *fakePeer, 16), left: make(chan string, 16),
	}
	cfg.New = func(string, bool) (*fakePeer, error) {
		pc := rtctest.Peer(t)
		if _, err := pc.CreateDataChannel("data", nil); err != nil {
			return nil, err
		}
		p := &fakePeer{pc: pc, live: make(chan struct{}, 4)}
		r.made <- p
		return p, nil
	}
	cfg.Send = func(msg protocol.Typed) error {
		if c, ok := msg.(protocol.Candidate); ok {
			select {
			case r.cands <- c:
			default: // more than the test reads
			}
			return nil
		}
		r.sent <- msg
		return nil
	}
	cfg.Left = func(id string) { r.left <- id }
	r.table = New(cfg)
	t.Cleanup(r.table.DropAll)
	return r
}

// next returns the next message sent that is not a candidate.
func (r *rig) next() protocol.Typed {
	r.t.Helper()
	select {
	case m := <-r.sent:
		return m
	case <-time.After(10 * time.Second):
		r.t.Fatal("nothing sent within 10 s")
		return nil
	}
}

// nothingSent fails the test if a message other than a candidate was sent.
func (r *rig) nothingSent() {
	r.t.Helper()
	select {
	case m := <-r.sent:
		r.t.Fatalf("sent %#v, want nothing", m)
	default:
	}
}

// offer asks for an offer as the watcher id and returns it with its Peer.
func (r *rig) offer(id string) (protocol.Offer, *fakePeer) {
	r.t.Helper()
	r.table.Request(id, "", false)
	m, ok := r.next().(protocol.Offer)
	if !ok || m.Sendto != id {
		r.t.Fatalf("sent %#v, want an offer to %s", m, id)
	}
	return m, <-r.made
}

// A talk_request repeated while the offer is out gets the same offer
// again (its session, now with the candidates gathered since: those sent
// after a lost offer were likely lost with it), and the watcher keeps its
// one place.
func TestRepeatedRequestGetsSameOffer(t *testing.T) {
	r := newRig(t, Config[*fakePeer]{})
	first, p := r.offer("w1")
	<-webrtc.GatheringCompletePromise(p.pc)
	r.table.Request("w1", "", false)
	again, ok := r.next().(protocol.Offer)
	if !ok || rtc.ICEUfrag(again.SDP) != rtc.ICEUfrag(first.SDP) {
		t.Fatalf("asked again: %#v, want the first offer's session again", again)
	}
	if strings.Contains(first.SDP, "a=candidate:") || !strings.Contains(again.SDP, "a=candidate:") {
		t.Errorf("candidates in the offer %v, in the repeated one %v: want none, then those gathered",
			strings.Contains(first.SDP, "a=candidate:"), strings.Contains(again.SDP, "a=candidate:"))
	}
	if n := r.table.Len(); n != 1 {
		t.Errorf("%d watchers, want 1", n)
	}
}

// Over MaxWatchers a watcher gets talk_reject {reason: "full"}; the
// room's relay is served beyond it and takes no watcher's place.
func TestFullButTheRelay(t *testing.T) {
	r := newRig(t, Config[*fakePeer]{MaxWatchers: 1})
	r.offer("w1")
	r.table.Request("relay", "", true)
	if m, ok := r.next().(protocol.Offer); !ok || m.Sendto != "relay" {
		t.Fatalf("relay got %#v, want an offer", m)
	}
	r.table.Request("w2", "", false)
	if m, ok := r.next().(protocol.TalkReject); !ok || m.Sendto != "w2" || m.Reason != protocol.RejectFull {
		t.Fatalf("w2 got %#v, want talk_reject full", m)
	}
	if n, d := r.table.Len(), r.table.Direct(); n != 2 || d != 1 {
		t.Errorf("%d watchers, %d direct; want 2, 1", n, d)
	}
}

// An offer not answered within OfferTimeout drops the watcher, closing
// its Peer, and tells it with talk_reject {reason: "timeout"}.
func TestOfferTimeout(t *testing.T) {
	r := newRig(t, Config[*fakePeer]{OfferTimeout: 50 * time.Millisecond})
	_, p := r.offer("w1")
	if m, ok := r.next().(protocol.TalkReject); !ok || m.Sendto != "w1" || m.Reason != protocol.RejectTimeout {
		t.Fatalf("sent %#v, want talk_reject timeout", m)
	}
	if id := <-r.left; id != "w1" {
		t.Errorf("Left(%q), want w1", id)
	}
	if n, c := r.table.Len(), p.closes.Load(); n != 0 || c != 1 {
		t.Errorf("%d watchers, Close called %d times; want 0, 1", n, c)
	}
	if s := p.pc.ConnectionState(); s != webrtc.PeerConnectionStateClosed {
		t.Errorf("PeerConnection %v, want closed", s)
	}
}

// A deadline that fires for a phase the watcher has left does nothing.
func TestStaleDeadlineIgnored(t *testing.T) {
	r := newRig(t, Config[*fakePeer]{})
	r.offer("w1")
	e := r.table.entry("w1")
	r.table.mu.Lock()
	offered := e.epoch
	r.table.moveLocked(e, phaseAnswered)
	r.table.mu.Unlock()
	r.table.expire(e, offered)
	if n := r.table.Len(); n != 1 {
		t.Fatalf("%d watchers after a stale deadline, want 1", n)
	}
	r.nothingSent()
}

// An answer that cannot be taken drops the watcher, told with talk_reject
// {reason: "dropped"} under RejectDropped, and not told without.
func TestBadAnswerDrops(t *testing.T) {
	for _, tell := range []bool{false, true} {
		r := newRig(t, Config[*fakePeer]{RejectDropped: tell})
		r.offer("w1")
		r.table.Handle(protocol.Message{Type: protocol.TypeAnswer, From: "w1", SDP: "not an answer"})
		if n := r.table.Len(); n != 0 {
			t.Errorf("RejectDropped %v: %d watchers, want 0", tell, n)
		}
		if !tell {
			r.nothingSent() // Handle sends what it sends before it returns
			continue
		}
		if m, ok := r.next().(protocol.TalkReject); !ok || m.Reason != protocol.RejectDropped {
			t.Errorf("sent %#v, want talk_reject dropped", m)
		}
	}
}

// A watcher's stats report goes to Config.Report; a message from a socket
// that is no watcher is left to the caller; bye drops the watcher.
func TestHandleReportStrangerBye(t *testing.T) {
	reports := make(chan string, 1)
	r := newRig(t, Config[*fakePeer]{Report: func(id string, _ protocol.Report) { reports <- id }})
	r.offer("w1")
	if !r.table.Handle(protocol.Message{Type: protocol.TypeStats, From: "w1"}) {
		t.Fatal("stats from a watcher not handled")
	}
	if id := <-reports; id != "w1" {
		t.Errorf("report of %q, want w1", id)
	}
	if r.table.Handle(protocol.Message{Type: protocol.TypeCandidate, From: "talker"}) {
		t.Error("a candidate from a socket that is no watcher was taken")
	}
	r.table.Handle(protocol.Message{Type: protocol.TypeBye, From: "w1"})
	if n := r.table.Len(); n != 0 {
		t.Errorf("%d watchers after bye, want 0", n)
	}
}

// connect answers the offer as a watcher and trickles candidates both
// ways until the Table's side is live.
func (r *rig) connect(id string, offer protocol.Offer, p *fakePeer) *webrtc.PeerConnection {
	r.t.Helper()
	w := rtctest.Peer(r.t)
	w.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			m := rtc.CandidateMessage(c, "")
			r.table.Handle(protocol.Message{Type: protocol.TypeCandidate, From: id, Candidate: m.Candidate, SDPMid: m.SDPMid, SDPMLineIndex: m.SDPMLineIndex})
		}
	})
	if err := w.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		r.t.Fatal(err)
	}
	answer, err := w.CreateAnswer(nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := w.SetLocalDescription(answer); err != nil {
		r.t.Fatal(err)
	}
	r.table.Handle(protocol.Message{Type: protocol.TypeAnswer, From: id, SDP: answer.SDP})
	deadline := time.After(10 * time.Second)
	for {
		select {
		case c := <-r.cands:
			_ = w.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
		case <-p.live:
			return w
		case <-deadline:
			r.t.Fatal("not live within 10 s")
		}
	}
}

// A watcher whose socket left with its media up is kept (Resume), and a
// talk_request naming its offer's ice-ufrag takes it back under the new
// socket id with talk_ready {resumed: true}; Live is called once.
func TestResumeTakesBackLiveSession(t *testing.T) {
	r := newRig(t, Config[*fakePeer]{Resume: true})
	offer, p := r.offer("w1")
	r.connect("w1", offer, p)
	if n := len(r.table.Live()); n != 1 {
		t.Fatalf("%d live, want 1", n)
	}
	r.table.Left("w1")
	if n, live := r.table.Len(), len(r.table.Live()); n != 1 || live != 0 {
		t.Fatalf("socket left: %d watchers, %d live; want 1 orphaned", n, live)
	}
	r.table.Request("w2", rtc.ICEUfrag(offer.SDP), false)
	if m, ok := r.next().(protocol.TalkReady); !ok || m.Sendto != "w2" || !m.Resumed {
		t.Fatalf("sent %#v, want talk_ready resumed to w2", m)
	}
	if n, live := r.table.Len(), len(r.table.Live()); n != 1 || live != 1 {
		t.Errorf("resumed: %d watchers, %d live; want 1, 1", n, live)
	}
	if r.table.entry("w1") != nil || r.table.entry("w2") == nil {
		t.Error("not keyed by the new socket id")
	}
	if n := p.lives.Load(); n != 1 {
		t.Errorf("Live called %d times, want 1", n)
	}
}

// Without Resume a watcher whose socket left is dropped at once, its media
// up or not, and a resume request is served with a new offer.
func TestNoResumeDropsAtOnce(t *testing.T) {
	r := newRig(t, Config[*fakePeer]{})
	offer, p := r.offer("w1")
	r.connect("w1", offer, p)
	r.table.Left("w1")
	if n, c := r.table.Len(), p.closes.Load(); n != 0 || c != 1 {
		t.Fatalf("socket left: %d watchers, Close called %d times; want 0, 1", n, c)
	}
	r.table.Request("w2", rtc.ICEUfrag(offer.SDP), false)
	if m, ok := r.next().(protocol.Offer); !ok || m.Sendto != "w2" {
		t.Fatalf("sent %#v, want a new offer to w2", m)
	}
}
