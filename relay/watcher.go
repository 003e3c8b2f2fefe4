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

// watcher is one watcher's PeerConnection, fed from the talker's tracks:
// the Peer of the room's watchers.Table, which keeps its phase.
type watcher struct {
	room   *Room
	id     atomic.Pointer[string] // its socket id, the latest if it resumed
	pc     *webrtc.PeerConnection
	tracks []*watcherTrack
	video  *watcherTrack // of tracks, the simulcast video's; nil for none

	liveAt    atomic.Int64  // unix nanoseconds the media path came up
	startOnce sync.Once     // the first video packet
	begun     chan struct{} // closed at the first video packet
	gone      chan struct{} // closed when dropped
}

// socketID returns the watcher's socket id.
func (w *watcher) socketID() string { return *w.id.Load() }

// PeerConnection returns the watcher's PeerConnection.
func (w *watcher) PeerConnection() *webrtc.PeerConnection { return w.pc }

// Live: w's media path is up (DTLS done). Its tracks are attached to the
// talker's, which asks for a keyframe, and the keyframe is asked for again
// until its video starts.
func (w *watcher) Live() { w.room.spawn(func() { w.room.attach(w) }) }

// Close detaches w's tracks from the talker's, and stops asking for its
// first keyframe: w is dropped.
func (w *watcher) Close() {
	close(w.gone)
	for _, t := range w.tracks {
		t.detach()
	}
}

// request serves a talk_request from the watcher id: held until the
// talker's tracks are in (talk_reject {reason: "full"} if those held and
// served reach Config.MaxWatchers), then served by the room's
// watchers.Table, which takes back the media session whose offer had the
// ice-ufrag resume (a watcher back under a new socket id) if it is up,
// and answers one that made its own offer (a WHEP player).
func (r *Room) request(id, resume, offer string) {
	r.mu.Lock()
	if !r.ready {
		full := len(r.pending)+r.watchers.Len() >= r.cfg.MaxWatchers
		i := slices.IndexFunc(r.pending, func(h heldRequest) bool { return h.id == id })
		switch {
		case full:
		case i >= 0:
			r.pending[i].offer = offer
		default:
			r.pending = append(r.pending, heldRequest{id: id, offer: offer})
		}
		r.mu.Unlock()
		if full {
			r.reject(id, protocol.RejectFull)
		}
		return
	}
	r.mu.Unlock()
	if offer != "" {
		r.watchers.AnswerOffer(id, offer)
		return
	}
	r.watchers.Request(id, resume, false)
}

// heldRequest is a watcher's talk_request held until the talker's tracks
// are in: its socket id, and its own offer if it made one.
type heldRequest struct{ id, offer string }

// servePending serves the watchers who asked before the talker's tracks
// were in.
func (r *Room) servePending() {
	r.mu.Lock()
	held := r.pending
	r.pending = nil
	r.mu.Unlock()
	for _, h := range held {
		r.request(h.id, "", h.offer)
	}
}

func (r *Room) reject(id, reason string) {
	r.log.Info("watcher refused", "watcher", id, "reason", reason)
	r.send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: id}, Reason: reason})
}

// newWatcher makes the watcher id's PeerConnection with a send-only track
// per talker's track: the watchers.Config.New of the room's Table.
func (r *Room) newWatcher(id string, _ bool) (*watcher, error) {
	pc, err := r.eng.toWatcher.NewPeerConnection(webrtc.Configuration{ICEServers: r.ice})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	w := &watcher{room: r, pc: pc, begun: make(chan struct{}), gone: make(chan struct{})}
	w.id.Store(&id)
	r.mu.Lock()
	tracks := r.tracks
	r.mu.Unlock()
	for _, from := range tracks {
		if err := r.addTrack(w, from); err != nil {
			_ = pc.Close()
			return nil, err
		}
	}
	return w, nil
}

// addTrack adds to w's PeerConnection a send-only copy of the talker's
// track from, offering the talker's codec alone, and reads the watcher's
// RTCP for it.
func (r *Room) addTrack(w *watcher, from *talkerTrack) error {
	t := &watcherTrack{room: r, w: w, from: from}
	if from.video() && from.layers.simulcast() {
		c, err := newLayerChoice(t)
		if err != nil {
			return err
		}
		t.choice, w.video = c, t
	}
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
			if t.choice != nil {
				t.choice.handleRTCP(pkts, d.SSRC())
			}
		}
	}
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
		// The first video whose track came: the camera, not a screen to
		// be shared later.
		if t.attach() && t.from.video() && video == nil && t.from.layers.upstream(t.layer) != nil {
			video = t
		}
	}
	if w.video != nil {
		w.video.choice.choose(time.Now(), true) // the page shows the layers
	}
	if video != nil {
		// Asked once by attaching (unless it started from the cache):
		// again, bounded, until its video starts. Dropping w closes
		// gone, and the room's end drops every watcher.
		rtc.AskKeyframe(video.requestKeyframe, firstFrameAskEvery, firstFrameAskTries, w.begun, w.gone)
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
			r.log.Warn("watcher's SRTP did not start", "watcher", w.socketID(), "after", srtpWait)
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
		r.log.Debug("watcher started", "watcher", w.socketID(), "keyframe", keyframe, "after_ms", wait.Milliseconds())
	})
}

// otherVideo returns the bitrate of w's video other than t's, in bits/s:
// that of the layers its other video tracks forward (a shared screen),
// which its link carries before t's (slides before the face).
func (w *watcher) otherVideo(t *watcherTrack) int {
	sum := 0
	for _, o := range w.tracks {
		if o == t || !o.from.video() {
			continue
		}
		if d := o.downstream(); d != nil && d.State() == Forwarding {
			sum += o.from.layers.rateOf(d.Upstream())
		}
	}
	return sum
}

// chooseLayers measures the talker's video layers' bitrates over dt
// and has each live watcher choose its layer again: a layer the talker
// stopped sending is left for the nearest one it sends.
func (r *Room) chooseLayers(dt time.Duration) {
	simulcast := false
	r.mu.Lock()
	for _, t := range r.tracks {
		if t.video() {
			t.layers.measure(dt)
			simulcast = simulcast || t.layers.simulcast()
		}
	}
	r.mu.Unlock()
	if !simulcast {
		return
	}
	r.retargetRecordings(nil)
	now := time.Now()
	for _, w := range r.watchers.Live() {
		if w.video != nil {
			w.video.choice.choose(now, false)
		}
	}
}

// pinLayer takes the layer message of the watcher id.
func (r *Room) pinLayer(id, name string) {
	w, ok := r.watchers.Peer(id)
	if !ok || w.video == nil {
		r.log.Debug("layer message", "watcher", id, "err", fmt.Errorf("%w: no simulcast video", ErrBadLayer))
		return
	}
	if err := w.video.choice.pin(name); err != nil {
		r.log.Debug("layer message", "watcher", id, "err", err)
	}
}

// sendSenderReports sends each live watcher a sender report for each of
// its tracks that forwards.
func (r *Room) sendSenderReports() {
	for _, w := range r.watchers.Live() {
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
