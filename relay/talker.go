package relay

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/protocol"
)

// receiveMTU is the room for one RTP packet read from the talker.
const receiveMTU = 1500

// talker is the relay's side of the talker's media session. Its fields are
// guarded by Room.mu but candidates, which has its own lock.
type talker struct {
	id       string // the talker's socket id; "" until known
	pc       *webrtc.PeerConnection
	ufrag    string // of the talker's offer: names the session to resume
	answer   string
	expected int         // kinds of track in the talker's offer (audio, video)
	arrived  int         // of them, those a track of which pion has handed over
	away     *time.Timer // while the talker's socket is gone: ResumeGrace to come back
	// tracksWait, from the first track, serves the watchers if the
	// offer's other tracks do not come.
	tracksWait *time.Timer
	asked      time.Time // the last talk_request
	onAirAt    time.Time // when the talker went on air, by its offer's onAirMs; zero if it did not say

	candidates rtc.EarlyCandidates
}

// onAirFor returns how long the talker has been on air, as its offer
// said; 0 if it did not.
func (r *Room) onAirFor() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.talker.onAirAt.IsZero() {
		return 0
	}
	return time.Since(r.talker.onAirAt)
}

// isTalker reports whether id is the talker's socket id.
func (r *Room) isTalker(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return id != "" && id == r.talker.id
}

// offered reports whether the talker's offer was taken.
func (r *Room) offered() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.talker.pc != nil
}

func (r *Room) talkerID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.talker.id
}

// askTalker sends a talk_request to the talker to, or to the room's talker
// if to is empty (the server delivers it to the talker, stamped as the
// relay's).
func (r *Room) askTalker(to string) {
	r.mu.Lock()
	if to != "" {
		r.talker.id = to
	}
	r.talker.asked = time.Now()
	r.mu.Unlock()
	r.send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: to}})
}

// talkReady: the talker is on air, or took the relay's session back
// (resumed), or is back under a new socket id and is asked to.
func (r *Room) talkReady(from string, resumed bool) {
	r.mu.Lock()
	pc, away, ufrag := r.talker.pc, r.talker.away != nil, r.talker.ufrag
	if resumed && away {
		r.talker.id = from
		r.talker.away.Stop()
		r.talker.away = nil
	}
	r.mu.Unlock()
	switch {
	case resumed:
		if away {
			r.log.Info("talker resumed", "talker", from)
		}
	case pc == nil:
		r.askTalker(from)
	case away:
		r.send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: from}, Resume: ufrag})
	}
}

// talkerLeft: the talker's socket is gone. With its media up it has
// protocol.ResumeGrace to come back and resume; otherwise the relay ends.
func (r *Room) talkerLeft() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	pc := r.talker.pc
	if pc == nil || pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		return fmt.Errorf("%w: its socket left", ErrTalkerLeft)
	}
	if r.talker.away == nil {
		r.talker.away = time.AfterFunc(protocol.ResumeGrace, func() {
			r.end(fmt.Errorf("%w: not back within %v", ErrTalkerLeft, protocol.ResumeGrace))
		})
	}
	return nil
}

// stopTimers stops the talker's grace timer and its tracks' wait.
func (r *Room) stopTimers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.talker.away != nil {
		r.talker.away.Stop()
		r.talker.away = nil
	}
	if r.talker.tracksWait != nil {
		r.talker.tracksWait.Stop()
	}
}

// nudgeTalker asks again what the talker seems not to have heard: the
// talk_request while no offer came, the answer while the media connection
// is still to come up.
func (r *Room) nudgeTalker() {
	r.mu.Lock()
	id, pc, answer, asked := r.talker.id, r.talker.pc, r.talker.answer, r.talker.asked
	r.mu.Unlock()
	switch {
	case pc == nil:
		if time.Since(asked) >= protocol.RetryInterval/2 {
			r.askTalker(id)
		}
	case answer != "" && (pc.ConnectionState() == webrtc.PeerConnectionStateNew || pc.ConnectionState() == webrtc.PeerConnectionStateConnecting):
		r.send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: id}, SDP: answer})
	}
}

// reportToTalker sends the talker a stats message saying how many
// watchers the relay serves.
func (r *Room) reportToTalker() {
	n := r.watchers.Len()
	if id := r.reportTo(); id != "" {
		r.send(protocol.Stats{Head: protocol.Head{Type: protocol.TypeStats, Sendto: id}, RelayWatchers: &n})
	}
}

// reportTo returns the talker's socket id if the relay's stats go to it
// now (its media session is up and its socket here), or else "".
func (r *Room) reportTo() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.talker.pc == nil || r.talker.away != nil {
		return ""
	}
	return r.talker.id
}

// passReport passes the quality report of the relay's watcher from on to
// the talker, as a stats message naming that watcher: the report's fields
// alone, the server stamps the rest.
func (r *Room) passReport(from string, report protocol.Report) {
	if id := r.reportTo(); id != "" {
		r.send(protocol.Stats{Head: protocol.Head{Type: protocol.TypeStats, Sendto: id}, Report: report, Watcher: from})
	}
}

// tellLeft tells the talker the relay's watcher id left it, so that its
// row goes from the talker's table.
func (r *Room) tellLeft(id string) {
	if to := r.reportTo(); to != "" {
		r.send(protocol.Stats{Head: protocol.Head{Type: protocol.TypeStats, Sendto: to}, Watcher: id, Left: true})
	}
}

// tellResumed tells the talker that the relay's watcher known as was is
// back as id on the same media connection: was's row goes, and id's comes
// with its next report.
func (r *Room) tellResumed(id, was string) {
	if w, ok := r.watchers.Peer(id); ok {
		w.id.Store(&id)
		if w.video != nil {
			w.video.choice.choose(time.Now(), true) // to its new socket id
		}
	}
	r.tellLeft(was)
}

// talkerOffer takes the talker's offer: a PeerConnection receiving its
// tracks, and an answer back, with every candidate of the relay's in it
// if the offer takes none trickled (NoTrickle: a WHIP publisher). The
// same offer again gets the same answer; a new one (a new media session)
// ends the relay: its watchers' sessions were on the old one.
func (r *Room) talkerOffer(offer protocol.Message) error {
	from := offer.From
	r.mu.Lock()
	old, ufrag, answer := r.talker.pc, r.talker.ufrag, r.talker.answer
	r.mu.Unlock()
	if old != nil {
		if rtc.ICEUfrag(offer.SDP) == ufrag {
			if answer != "" { // else it is on its way, its candidates gathered
				r.send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: from}, SDP: answer})
			}
			return nil
		}
		return fmt.Errorf("%w: it offered a new session", ErrTalkerLeft)
	}
	pc, err := r.eng.toTalker.NewPeerConnection(webrtc.Configuration{ICEServers: r.ice})
	if err != nil {
		return fmt.Errorf("talker peer connection: %w", err)
	}
	r.mu.Lock()
	r.talker.id, r.talker.pc = from, pc
	if offer.OnAirMs > 0 {
		r.talker.onAirAt = time.Now().Add(-time.Duration(offer.OnAirMs) * time.Millisecond)
	}
	r.mu.Unlock()
	pc.OnTrack(r.talkerTrack)
	if !offer.NoTrickle {
		pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c != nil {
				r.send(rtc.CandidateMessage(c, r.talkerID()))
			}
		})
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		r.log.Debug("talker connection", "state", s.String())
		if s == webrtc.PeerConnectionStateFailed {
			r.end(fmt.Errorf("%w: its media connection failed", ErrTalkerLeft))
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		return fmt.Errorf("talker's offer: %w", err)
	}
	kinds, err := keepTracks(pc)
	if err != nil {
		return fmt.Errorf("talker's offer: %w", err)
	}
	r.mu.Lock()
	r.talker.ufrag, r.talker.expected = rtc.ICEUfrag(offer.SDP), kinds
	r.mu.Unlock()
	answerTalker := func() error {
		ans, err := rtc.Answer(pc, offer.NoTrickle, r.done)
		if err != nil {
			return fmt.Errorf("answer the talker: %w", err)
		}
		r.mu.Lock()
		r.talker.answer = ans
		r.mu.Unlock()
		r.send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: from}, SDP: ans})
		r.talker.candidates.Ready(pc, from)
		r.log.Info("talker answered", "talker", from, "kinds", kinds, "trickle", !offer.NoTrickle)
		return nil
	}
	if !offer.NoTrickle {
		return answerTalker()
	}
	// Gathering the candidates may take a STUN or TURN server's while:
	// the room goes on meanwhile.
	r.spawn(func() {
		if err := answerTalker(); err != nil {
			r.end(err)
		}
	})
	return nil
}

// maxVideoTracks is how many of a talker's video tracks the relay
// receives: a camera and a shared screen (lecture mode).
const maxVideoTracks = 2

// keepTracks stops every receiving transceiver of pc but the first audio
// and the first maxVideoTracks video ones, and answers the talker's other
// media sections inactive, so that a talker cannot make it hold a buffer
// and goroutines per track. It returns the kinds kept: the tracks the
// watchers wait for (one of each kind; a second video, a screen the talker
// may share later, is relayed when it comes).
func keepTracks(pc *webrtc.PeerConnection) (kinds int, err error) {
	kept := map[webrtc.RTPCodecType]int{}
	for _, t := range pc.GetTransceivers() {
		if d := t.Direction(); d != webrtc.RTPTransceiverDirectionRecvonly && d != webrtc.RTPTransceiverDirectionSendrecv {
			continue
		}
		k := t.Kind()
		if (k == webrtc.RTPCodecTypeAudio && kept[k] < 1) || (k == webrtc.RTPCodecTypeVideo && kept[k] < maxVideoTracks) {
			kept[k]++
			continue
		}
		if err := t.Stop(); err != nil {
			return 0, err
		}
	}
	return len(kept), nil
}

// placeholdersLocked adds, for each video transceiver of the talker's
// whose track has not come (a screen not shared yet), a talkerTrack with
// no Upstream yet and the codec negotiated for it, so that the watchers
// served from now on have a track for it: its packets reach them when it
// comes (talkerTrack). It keeps r.tracks in the order of the talker's
// media sections, which the watchers' offers follow. Called with r.mu
// held, as the room becomes ready: no watcher is served before.
func (r *Room) placeholdersLocked() {
	pc := r.talker.pc
	if pc == nil {
		return
	}
	order := map[*webrtc.RTPReceiver]int{}
	for i, tr := range pc.GetTransceivers() {
		order[tr.Receiver()] = i
		d := tr.Direction()
		if tr.Kind() != webrtc.RTPCodecTypeVideo || (d != webrtc.RTPTransceiverDirectionRecvonly && d != webrtc.RTPTransceiverDirectionSendrecv) {
			continue
		}
		if slices.ContainsFunc(r.tracks, func(t *talkerTrack) bool { return t.receiver == tr.Receiver() }) {
			continue
		}
		c, ok := negotiatedVideo(tr.Receiver())
		if !ok {
			continue
		}
		r.tracks = append(r.tracks, &talkerTrack{id: trackID(webrtc.RTPCodecTypeVideo, r.tracks), kind: webrtc.RTPCodecTypeVideo, codec: c, receiver: tr.Receiver(), layers: newLayers(nil)})
	}
	slices.SortStableFunc(r.tracks, func(a, b *talkerTrack) int { return order[a.receiver] - order[b.receiver] })
}

// negotiatedVideo returns the first video codec the relay forwards among
// those negotiated for receiver: the one a browser sends with.
func negotiatedVideo(receiver *webrtc.RTPReceiver) (webrtc.RTPCodecParameters, bool) {
	for _, c := range receiver.GetParameters().Codecs {
		if slices.ContainsFunc(keyframeCodecs, func(m string) bool { return strings.EqualFold(m, c.MimeType) }) {
			return c, true
		}
	}
	return webrtc.RTPCodecParameters{}, false
}

// talkerTrack takes one of the talker's tracks, or one simulcast layer of
// it (pion calls it per rid), from pion's goroutine: an Upstream that its
// packets are read into once, its sender reports read, and its keyframe
// requests written as PLIs. When every track of the offer is in (a
// simulcast track with its first layer), the watchers waiting are served.
func (r *Room) talkerTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	r.mu.Lock()
	pc := r.talker.pc
	r.mu.Unlock()
	plis := make(chan struct{}, 1)
	up, err := NewUpstream(UpstreamConfig{
		MimeType: remote.Codec().MimeType, ClockRate: remote.Codec().ClockRate,
		GOPCacheBytes: max(r.cfg.GOPCacheBytes, 0),
		RequestKeyframe: func() {
			select {
			case plis <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		r.log.Warn("talker's track not relayed", "err", err)
		r.trackArrived()
		return
	}
	rid := remote.RID()
	if rid != "" && !slices.Contains(newLayers(ridsOf(receiver)).rids, rid) {
		// A rid past the layers relayed: not read (pion's buffer for it
		// is bounded), no Upstream nor goroutine spent on it.
		r.log.Warn("talker's layer not relayed", "rid", rid)
		return
	}
	ssrc := uint32(remote.SSRC())
	ok := r.spawn(func() { r.readTrack(remote, up) })
	ok = ok && r.spawn(func() { r.readSenderReports(receiver, rid, up) })
	ok = ok && r.spawn(func() { r.writePLIs(pc, ssrc, plis) })
	if !ok {
		return
	}
	r.mu.Lock()
	i := slices.IndexFunc(r.tracks, func(t *talkerTrack) bool { return t.receiver == receiver })
	if i < 0 {
		r.tracks = append(r.tracks, &talkerTrack{id: trackID(remote.Kind(), r.tracks), kind: remote.Kind(), codec: remote.Codec(), receiver: receiver, layers: newLayers(ridsOf(receiver))})
		i = len(r.tracks) - 1
	}
	t := r.tracks[i]
	firstOfKind := !slices.Contains(r.kindsIn, t.kind)
	if firstOfKind {
		r.kindsIn = append(r.kindsIn, t.kind)
	}
	late := r.ready
	r.mu.Unlock()
	if !strings.EqualFold(t.codec.MimeType, remote.Codec().MimeType) {
		r.log.Warn("talker's track not relayed: not the codec its watchers were offered", "codec", remote.Codec().MimeType, "offered", t.codec.MimeType)
		return
	}
	if !t.layers.set(rid, up) {
		r.log.Warn("talker's layer not relayed", "rid", rid)
	}
	r.log.Info("talker's track in", "kind", t.kind.String(), "codec", t.codec.MimeType, "rid", rid)
	if late {
		r.attachLate(t)
	}
	r.retargetRecordings(t)
	if firstOfKind {
		r.trackArrived()
	}
}

// attachLate attaches the live watchers' copies of the talker's track t,
// whose Upstream came after they were served (a screen shared later).
func (r *Room) attachLate(t *talkerTrack) {
	// Every watcher's: one whose socket is away (its media up) resumes
	// without attaching again.
	for _, w := range r.watchers.Peers() {
		for _, wt := range w.tracks {
			if wt.from == t {
				wt.reattach()
			}
		}
	}
}

// trackArrived counts one of the talker's offer's tracks in (or refused):
// the watchers waiting are served when all are, or tracksWait after the
// first.
func (r *Room) trackArrived() {
	r.mu.Lock()
	r.talker.arrived++
	ready := !r.ready && r.talker.arrived >= r.talker.expected
	r.ready = r.ready || ready
	if ready {
		r.placeholdersLocked()
	}
	if !r.ready && r.talker.arrived == 1 && !r.closing {
		r.talker.tracksWait = time.AfterFunc(tracksWait, r.tracksIn)
	}
	r.mu.Unlock()
	if ready {
		r.signalReady()
	}
}

// tracksIn: tracksWait passed since the talker's first track came and
// some of its offer's tracks are still to come (a track that sends no
// packet, as a talker's muted one may not): the watchers are served what
// came.
func (r *Room) tracksIn() {
	r.mu.Lock()
	ready := !r.ready && len(r.tracks) > 0
	r.ready = r.ready || ready
	if ready {
		r.placeholdersLocked()
	}
	r.mu.Unlock()
	if ready {
		r.log.Info("talker's tracks: serving those that came", "tracks", len(r.tracks))
		r.signalReady()
	}
}

// signalReady tells Run the talker's tracks are in.
func (r *Room) signalReady() {
	select {
	case r.tracksReady <- struct{}{}:
	default:
	}
}

// readTrack reads the talker's track into up until it ends.
func (r *Room) readTrack(remote *webrtc.TrackRemote, up *Upstream) {
	buf := make([]byte, receiveMTU)
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		_ = up.Write(buf[:n]) // a packet that is no RTP is counted and dropped
	}
}

// readSenderReports hands the talker's sender reports for the track (its
// layer rid, with simulcast) to up.
func (r *Room) readSenderReports(receiver *webrtc.RTPReceiver, rid string, up *Upstream) {
	read := receiver.ReadRTCP
	if rid != "" {
		read = func() ([]rtcp.Packet, interceptor.Attributes, error) { return receiver.ReadSimulcastRTCP(rid) }
	}
	for {
		pkts, _, err := read()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				up.HandleSenderReport(sr)
			}
		}
	}
}

// writePLIs sends the talker a PLI for the track of SSRC ssrc each time
// its Upstream asks for a keyframe, until the room ends.
func (r *Room) writePLIs(pc *webrtc.PeerConnection, ssrc uint32, asks <-chan struct{}) {
	for {
		select {
		case <-r.done:
			return
		case <-asks:
			if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err == nil {
				r.stats.plis.Add(1)
			}
		}
	}
}
