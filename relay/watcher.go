package relay

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/protocol"
)

// watcher is one watcher's PeerConnection, fed from the talker's tracks.
type watcher struct {
	id    string
	phase phase       // guarded by Room.mu; changed by move only
	epoch uint64      // guarded by Room.mu: moves so far, to tell a stale deadline
	timer *time.Timer // guarded by Room.mu: the phase's deadline, if it has one

	pc         *webrtc.PeerConnection
	offer      string // as first sent; guarded by Room.mu until then
	tracks     []*watcherTrack
	candidates rtc.EarlyCandidates // the watcher's, held until its answer

	liveAt    atomic.Int64  // unix nanoseconds the media path came up
	startOnce sync.Once     // the first video packet
	begun     chan struct{} // closed at the first video packet
	gone      chan struct{} // closed when dropped
}

func (r *Room) watcher(id string) *watcher {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.watchers[id]
}

// request serves a talk_request from the watcher id: held until the
// talker's tracks are in, the same offer again if one is out, a
// talk_reject when full, or else a new offer.
func (r *Room) request(id string) {
	r.mu.Lock()
	if !r.ready {
		full := len(r.pending)+len(r.watchers) >= r.cfg.MaxWatchers
		if !full && !slices.Contains(r.pending, id) {
			r.pending = append(r.pending, id)
		}
		r.mu.Unlock()
		if full {
			r.reject(id, protocol.RejectFull)
		}
		return
	}
	w := r.watchers[id]
	offered := w != nil && w.phase == phaseOffered
	r.mu.Unlock()
	if offered {
		// Asked again while the offer is out: it may have been lost. The
		// same offer, so that an answer to either copy fits.
		r.send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: id}, SDP: w.offer}) // set before offered
		return
	}
	if w != nil {
		r.drop(w)
	}
	if r.Watchers() >= r.cfg.MaxWatchers {
		r.reject(id, protocol.RejectFull)
		return
	}
	if err := r.offer(id); err != nil {
		r.log.Warn("offer failed", "watcher", id, "err", err)
		if w := r.watcher(id); w != nil {
			r.drop(w)
		}
		r.reject(id, protocol.RejectDropped)
	}
}

// servePending serves the watchers who asked before the talker's tracks
// were in.
func (r *Room) servePending() {
	r.mu.Lock()
	ids := r.pending
	r.pending = nil
	r.mu.Unlock()
	for _, id := range ids {
		r.request(id)
	}
}

func (r *Room) reject(id, reason string) {
	r.log.Info("watcher refused", "watcher", id, "reason", reason)
	r.send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: id}, Reason: reason})
}

// offer makes the watcher id's PeerConnection, a send-only track per
// talker's track, and sends it the offer.
func (r *Room) offer(id string) error {
	pc, err := r.eng.toWatcher.NewPeerConnection(webrtc.Configuration{ICEServers: r.ice})
	if err != nil {
		return fmt.Errorf("peer connection: %w", err)
	}
	w := &watcher{id: id, pc: pc, begun: make(chan struct{}), gone: make(chan struct{})}
	r.mu.Lock()
	tracks := r.tracks
	r.watchers[id] = w
	n := len(r.watchers)
	r.mu.Unlock()
	for _, from := range tracks {
		if err := r.addTrack(w, from); err != nil {
			return err
		}
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			r.send(rtc.CandidateMessage(c, id))
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		r.log.Debug("watcher connection", "watcher", id, "state", s.String())
		switch s {
		case webrtc.PeerConnectionStateConnected:
			r.live(w)
		case webrtc.PeerConnectionStateFailed:
			r.dropFailed(w)
		case webrtc.PeerConnectionStateClosed:
			r.drop(w)
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	r.mu.Lock()
	w.offer = offer.SDP
	r.moveLocked(w, phaseOffered)
	r.mu.Unlock()
	r.log.Info("watcher joined", "watcher", id, "watchers", n)
	r.send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: id}, SDP: offer.SDP})
	return nil
}

// addTrack adds to w's PeerConnection a send-only copy of the talker's
// track from, offering the talker's codec alone, and reads the watcher's
// RTCP for it.
func (r *Room) addTrack(w *watcher, from *talkerTrack) error {
	t := &watcherTrack{room: r, w: w, from: from}
	tr, err := w.pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("add %s track: %w", from.kind, err)
	}
	c := from.codec
	c.PayloadType = 0 // the watcher's own
	if err := tr.SetCodecPreferences([]webrtc.RTPCodecParameters{c}); err != nil {
		return fmt.Errorf("%s codec: %w", from.kind, err)
	}
	w.tracks = append(w.tracks, t)
	sender := tr.Sender()
	r.spawn(func() { r.readWatcherRTCP(sender, t) })
	return nil
}

// readWatcherRTCP hands the watcher's RTCP for t to its Downstream: PLI
// and FIR go upstream merged, NACKs are answered from the shared buffer.
func (r *Room) readWatcherRTCP(sender *webrtc.RTPSender, t *watcherTrack) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		if d := t.downstream(); d != nil {
			served, _ := d.HandleRTCP(pkts)
			r.stats.nacksServed.Add(uint64(served))
		}
	}
}

// answer takes the watcher's answer, moving w from offered to answered. A
// repeat of it is ignored.
func (r *Room) answer(w *watcher, sdp string) error {
	r.mu.Lock()
	ph := w.phase
	r.mu.Unlock()
	if ph != phaseOffered {
		return nil
	}
	if err := w.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("set remote description: %w", err)
	}
	r.move(w, phaseAnswered)
	w.candidates.Ready(w.pc, "")
	return nil
}

// live: w's media path is up (DTLS done). Its tracks are attached to the
// talker's, which asks for a keyframe, and the keyframe is asked for again
// until its video starts.
func (r *Room) live(w *watcher) {
	if !r.move(w, phaseLive) {
		return
	}
	r.spawn(func() { r.attach(w) })
}

// attach attaches w's tracks to the talker's once SRTP is up, and asks for
// its first keyframe.
func (r *Room) attach(w *watcher) {
	if !r.waitSRTP(w) {
		return
	}
	w.liveAt.Store(time.Now().UnixNano())
	var video *watcherTrack
	for _, t := range w.tracks {
		if t.attach() && t.from.video() {
			video = t
		}
	}
	if video != nil {
		// Asked once by attaching (unless it started from the cache):
		// again, bounded, until its video starts. Dropping w closes
		// gone, and the room's end drops every watcher.
		rtc.AskKeyframe(video.from.up.RequestKeyframe, firstFrameAskEvery, firstFrameAskTries, w.begun, w.gone)
	}
}

// srtpWait bounds waitSRTP, and srtpPoll is its interval.
const (
	srtpWait = 2 * time.Second
	srtpPoll = 5 * time.Millisecond
)

// waitSRTP waits until w's SRTP session is up, and reports false if w went
// first or it took over srtpWait. pion reports the connection up when DTLS
// is, a moment before it starts SRTP; a packet written meanwhile is dropped
// without an error, and pion has no signal for it: an empty receiver
// report (RFC 3550 §6.4.2) is written until one goes.
func (r *Room) waitSRTP(w *watcher) bool {
	probe := []rtcp.Packet{&rtcp.ReceiverReport{}}
	timer := time.NewTimer(srtpWait)
	defer timer.Stop()
	for w.pc.WriteRTCP(probe) != nil {
		select {
		case <-w.gone:
			return false
		case <-timer.C:
			r.log.Warn("watcher's SRTP did not start", "watcher", w.id, "after", srtpWait)
			return false
		case <-time.After(srtpPoll):
		}
	}
	return true
}

// started: w's first video packet went out, a keyframe's or not.
func (w *watcher) started(r *Room, keyframe bool) {
	w.startOnce.Do(func() {
		close(w.begun)
		wait := time.Duration(time.Now().UnixNano() - w.liveAt.Load())
		r.stats.firstPackets.Add(1)
		r.stats.firstPacketNanos.Add(uint64(wait))
		if keyframe {
			r.stats.keyframeStarts.Add(1)
		}
		r.log.Debug("watcher started", "watcher", w.id, "keyframe", keyframe, "after_ms", wait.Milliseconds())
	})
}

// drop moves w to gone, closes its connection and tells the talker it
// left; it reports false if w was gone already.
func (r *Room) drop(w *watcher) bool {
	r.mu.Lock()
	if !r.moveLocked(w, phaseGone) {
		r.mu.Unlock()
		return false
	}
	if r.watchers[w.id] == w {
		delete(r.watchers, w.id)
	}
	n := len(r.watchers)
	r.mu.Unlock()
	close(w.gone)
	for _, t := range w.tracks {
		t.detach()
	}
	_ = w.pc.Close()
	r.log.Info("watcher left", "watcher", w.id, "watchers", n)
	r.tellLeft(w.id)
	return true
}

// dropFailed drops w, which did not ask for it, and tells it with
// talk_reject {reason: "dropped"}, unless it was gone already.
func (r *Room) dropFailed(w *watcher) {
	if r.drop(w) {
		r.reject(w.id, protocol.RejectDropped)
	}
}

// expire: w stayed in a phase past its deadline (epoch names which): an
// unanswered offer is dropped with talk_reject {reason: "timeout"}.
func (r *Room) expire(w *watcher, epoch uint64) {
	r.mu.Lock()
	stale := w.epoch != epoch || w.phase != phaseOffered
	r.mu.Unlock()
	if stale || !r.drop(w) {
		return
	}
	r.reject(w.id, protocol.RejectTimeout)
}

// sendSenderReports sends each live watcher a sender report for each of
// its tracks that forwards.
func (r *Room) sendSenderReports() {
	r.mu.Lock()
	live := make([]*watcher, 0, len(r.watchers))
	for _, w := range r.watchers {
		if w.phase == phaseLive {
			live = append(live, w)
		}
	}
	r.mu.Unlock()
	for _, w := range live {
		var pkts []rtcp.Packet
		for _, t := range w.tracks {
			if d := t.downstream(); d != nil {
				if sr, ok := d.SenderReport(); ok {
					pkts = append(pkts, sr)
				}
			}
		}
		if len(pkts) > 0 {
			_ = w.pc.WriteRTCP(pkts)
		}
	}
}
