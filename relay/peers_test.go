package relay

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/broadcast-service/broadcast/internal/codec"
	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// testTalker is a room's talker played by the test: VP8 frames and an
// audio track at their own pace, an offer to whoever asks, and each PLI
// it hears noted and answered with the next keyframe.
type testTalker struct {
	t      testing.TB
	m      *member
	api    *webrtc.API
	video  *webrtc.TrackLocalStaticSample
	audio  *webrtc.TrackLocalStaticSample
	frames [][]byte
	cancel context.CancelFunc
	// muteAudio, set before start, sends no audio packet.
	muteAudio bool
	// layers, set before start (simulcast), are the video's layers,
	// lowest first (rids q, h, f), and layerFrames their frames, whose
	// keyframes come at the same places: the relay gets them in place of
	// video.
	layers      []*webrtc.TrackLocalStaticSample
	layerFrames [][][]byte
	// screen, set before start, is a second video track (a shared screen,
	// lecture mode), offered after the audio, which sends the frames
	// while screenOn.
	screen   *webrtc.TrackLocalStaticSample
	screenOn atomic.Bool
	// onAirMs, set before start, is sent in its offers.
	onAirMs int64
	// muteVideo, set before start, sends no camera video packet (a talker
	// with a microphone only, whose video sections send nothing).
	muteVideo bool
	wantKey   atomic.Bool
	plis      chan time.Time // each PLI heard, when
	ssrc      atomic.Uint32  // of the video sent to the relay

	mu  sync.Mutex
	pcs map[string]*talkerPeer
	wg  sync.WaitGroup
}

type talkerPeer struct {
	pc    *webrtc.PeerConnection
	cands rtc.EarlyCandidates
}

func newTestTalker(t testing.TB, m *member, frames [][]byte) *testTalker {
	t.Helper()
	api, err := rtc.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "talker")
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "talker")
	if err != nil {
		t.Fatal(err)
	}
	return &testTalker{t: t, m: m, api: api, video: video, audio: audio, frames: frames, plis: make(chan time.Time, 1000), pcs: map[string]*talkerPeer{}}
}

// start sends media and answers signaling until ctx ends; stop waits for
// it and closes every PeerConnection.
func (tt *testTalker) start(ctx context.Context) {
	ctx, tt.cancel = context.WithCancel(ctx)
	tt.wg.Go(func() { tt.pace(ctx) })
	tt.wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-tt.m.events:
				if m, ok := ev.(session.Message); ok {
					tt.handle(m.Message)
				}
			}
		}
	})
}

func (tt *testTalker) stop() {
	tt.cancel()
	tt.mu.Lock()
	for _, p := range tt.pcs {
		_ = p.pc.Close()
	}
	tt.mu.Unlock()
	tt.wg.Wait()
}

// pace writes a frame every 1/30 s (skipping to the next keyframe after a
// PLI) and 20 ms of audio every 20 ms.
func (tt *testTalker) pace(ctx context.Context) {
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	audioTick := time.NewTicker(20 * time.Millisecond)
	defer audioTick.Stop()
	i := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-audioTick.C:
			if tt.muteAudio {
				continue
			}
			_ = tt.audio.WriteSample(media.Sample{Data: []byte{0xfc, 0xff, 0xfe}, Duration: 20 * time.Millisecond})
		case <-tick.C:
			if tt.wantKey.Swap(false) {
				for range len(tt.frames) {
					if vp8Key(tt.frames[i%len(tt.frames)]) {
						break
					}
					i++
				}
			}
			if !tt.muteVideo {
				_ = tt.video.WriteSample(media.Sample{Data: tt.frames[i%len(tt.frames)], Duration: time.Second / 30})
			}
			if tt.screen != nil && tt.screenOn.Load() {
				_ = tt.screen.WriteSample(media.Sample{Data: tt.frames[i%len(tt.frames)], Duration: time.Second / 30})
			}
			for j, l := range tt.layers {
				f := tt.layerFrames[j]
				_ = l.WriteSample(media.Sample{Data: f[i%len(f)], Duration: time.Second / 30})
			}
			i++
		}
	}
}

// vp8Key reports whether a VP8 frame is a keyframe (RFC 6386 §9.1).
func vp8Key(frame []byte) bool { return len(frame) > 0 && frame[0]&1 == 0 }

func (tt *testTalker) handle(m protocol.Message) {
	tt.mu.Lock()
	p := tt.pcs[m.From]
	tt.mu.Unlock()
	switch m.Type {
	case protocol.TypeTalkRequest:
		if p == nil {
			tt.offer(m.From)
		}
	case protocol.TypeAnswer:
		if p != nil && p.pc.RemoteDescription() == nil {
			if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
				tt.t.Errorf("talker: answer: %v", err)
				return
			}
			p.cands.Ready(p.pc, "")
		}
	case protocol.TypeCandidate:
		if p != nil {
			p.cands.Add("", rtc.ICECandidate(m))
		}
	}
}

func (tt *testTalker) offer(to string) {
	pc, err := tt.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tt.t.Errorf("talker: %v", err)
		return
	}
	p := &talkerPeer{pc: pc}
	tt.mu.Lock()
	tt.pcs[to] = p
	tt.mu.Unlock()
	var vs *webrtc.RTPSender
	if len(tt.layers) > 0 {
		ls := make([]webrtc.TrackLocal, len(tt.layers))
		for i, l := range tt.layers {
			ls[i] = l
		}
		vs, err = rtc.AddSimulcast(pc, ls)
	} else {
		vs, err = pc.AddTrack(tt.video)
	}
	if err != nil {
		tt.t.Errorf("talker: %v", err)
		return
	}
	tt.ssrc.Store(uint32(vs.GetParameters().Encodings[0].SSRC))
	for _, l := range tt.layers {
		rid := l.RID()
		tt.wg.Go(func() {
			tt.readPLIs(func() ([]rtcp.Packet, interceptor.Attributes, error) { return vs.ReadSimulcastRTCP(rid) }, false)
		})
	}
	as, err := pc.AddTrack(tt.audio)
	if err != nil {
		tt.t.Errorf("talker: %v", err)
		return
	}
	tt.wg.Go(func() { tt.readPLIs(vs.ReadRTCP, true) })
	tt.wg.Go(func() {
		for {
			if _, _, err := as.ReadRTCP(); err != nil {
				return
			}
		}
	})
	if tt.screen != nil {
		ss, err := pc.AddTrack(tt.screen)
		if err != nil {
			tt.t.Errorf("talker: %v", err)
			return
		}
		tt.wg.Go(func() { tt.readPLIs(ss.ReadRTCP, false) })
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			_ = tt.m.Send(rtc.CandidateMessage(c, to))
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err == nil {
		err = pc.SetLocalDescription(offer)
	}
	if err != nil {
		tt.t.Errorf("talker: offer: %v", err)
		return
	}
	_ = tt.m.Send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: to}, SDP: offer.SDP, OnAirMs: tt.onAirMs})
}

// readPLIs reads a sender's RTCP with read until it ends, answering each
// PLI with the next keyframe, noted in tt.plis if note.
func (tt *testTalker) readPLIs(read func() ([]rtcp.Packet, interceptor.Attributes, error), note bool) {
	for {
		pkts, _, err := read()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			if _, ok := pkt.(*rtcp.PictureLossIndication); ok {
				if note {
					tt.plis <- time.Now()
				}
				tt.wantKey.Store(true)
			}
		}
	}
}

// testWatcher is a watcher played by the test: it asks the relay, answers
// its offer and notes what it receives.
type testWatcher struct {
	t         testing.TB
	m         *member
	api       *webrtc.API
	relay     string
	cancel    context.CancelFunc
	handled   chan struct{} // closed as start's loop ends: no message is being handled
	asked     time.Time
	rejects   chan string             // talk_reject reasons
	layerMsgs chan protocol.Message   // layer messages from the relay
	offered   chan struct{}           // closed at the first offer
	srs       chan *rtcp.SenderReport // the relay's, for the video
	enough    chan struct{}           // closed once wantVideo video and wantAudio audio packets came

	wantVideo, wantAudio int

	mu        sync.Mutex
	closing   bool
	pc        *webrtc.PeerConnection
	cands     rtc.EarlyCandidates
	first     *rtp.Packet // the first video packet
	firstAt   time.Time
	trackSSRC uint32          // of the video track, as negotiated
	seqs      map[uint64]bool // video sequence numbers received, extended
	high      uint64          // the highest of them
	video     int             // video packets
	audio     int             // audio packets
	wrongSSRC int             // packets whose SSRC is not the track's
	full      bool            // enough is closed
	dups      int             // video packets received again
	widths    []int           // of each VP8 keyframe, in pixels, as they came
	others    map[string]int  // video packets of tracks other than "video", by track id
	onAirMs   int64           // of the first offer
	lastTS    uint32          // of the last video packet
	tsBack    int             // video packets whose timestamp went back by over a frame's
	wg        sync.WaitGroup
}

func newTestWatcher(t testing.TB, m *member, relay string) *testWatcher {
	t.Helper()
	// SRTP's replay protection would drop a packet the watcher NACKs
	// though it had it: the test asks for one again to see it resent.
	se := webrtc.SettingEngine{}
	se.DisableSRTPReplayProtection(true)
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	return &testWatcher{
		t: t, m: m, api: api, relay: relay, rejects: make(chan string, 10), srs: make(chan *rtcp.SenderReport, 100),
		layerMsgs: make(chan protocol.Message, 100),
		offered:   make(chan struct{}), enough: make(chan struct{}), handled: make(chan struct{}),
		wantVideo: 150, wantAudio: 20, seqs: map[uint64]bool{}, others: map[string]int{},
	}
}

// start asks the relay for the stream and answers until ctx ends; stop
// waits for it and closes the PeerConnection. stop needs start first.
func (w *testWatcher) start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.asked = time.Now()
	_ = w.m.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: w.relay}})
	w.wg.Go(func() {
		defer close(w.handled)
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-w.m.events:
				if m, ok := ev.(session.Message); ok {
					w.handle(m.Message)
				}
			}
		}
	})
}

func (w *testWatcher) stop() {
	w.cancel()
	// An offer being answered is answered before the PeerConnection
	// closes: closed under it, the answer would fail.
	<-w.handled
	w.mu.Lock()
	w.closing = true
	pc := w.pc
	w.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
	w.wg.Wait()
}

// stopping reports whether stop was called.
func (w *testWatcher) stopping() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closing
}

func (w *testWatcher) peerConnection() *webrtc.PeerConnection {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pc
}

func (w *testWatcher) handle(m protocol.Message) {
	switch m.Type {
	case protocol.TypeTalkReject:
		w.rejects <- m.Reason
	case protocol.TypeLayer:
		w.layerMsgs <- m
	case protocol.TypeCandidate:
		w.cands.Add("", rtc.ICECandidate(m))
	case protocol.TypeOffer:
		if w.peerConnection() != nil {
			return
		}
		pc, err := w.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			w.t.Errorf("watcher: %v", err)
			return
		}
		w.mu.Lock()
		w.pc, w.onAirMs = pc, m.OnAirMs
		w.mu.Unlock()
		close(w.offered)
		pc.OnTrack(func(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
			w.mu.Lock()
			if w.closing {
				w.mu.Unlock()
				return
			}
			w.wg.Add(1)
			if t.Kind() == webrtc.RTPCodecTypeVideo {
				w.wg.Go(func() { w.readReports(recv) })
			}
			w.mu.Unlock()
			defer w.wg.Done()
			w.receive(t)
		})
		pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c != nil {
				_ = w.m.Send(rtc.CandidateMessage(c, m.From))
			}
		})
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
			if !w.stopping() { // stop closes pc under a test that ended on the offer
				w.t.Errorf("watcher: offer: %v", err)
			}
			return
		}
		answer, err := pc.CreateAnswer(nil)
		if err == nil {
			err = pc.SetLocalDescription(answer)
		}
		if err != nil {
			if !w.stopping() {
				w.t.Errorf("watcher: answer: %v", err)
			}
			return
		}
		_ = w.m.Send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: m.From}, SDP: answer.SDP})
		w.cands.Ready(pc, "")
	}
}

// receive notes a track's packets until it ends.
func (w *testWatcher) receive(t *webrtc.TrackRemote) {
	video := t.Kind() == webrtc.RTPCodecTypeVideo
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		w.mu.Lock()
		if pkt.SSRC != uint32(t.SSRC()) {
			w.wrongSSRC++
		}
		if video && t.ID() != "video" {
			w.others[t.ID()]++
			w.mu.Unlock()
			continue
		}
		if video {
			if w.first == nil {
				w.first, w.firstAt, w.trackSSRC = pkt, time.Now(), uint32(t.SSRC())
				w.high = uint64(pkt.SequenceNumber) + 1<<16
				w.lastTS = pkt.Timestamp
			}
			ext := unwrapSeq(pkt.SequenceNumber, w.high)
			if w.seqs[ext] {
				w.dups++
			}
			w.seqs[ext] = true
			if ext > w.high && w.video > 0 && int32(pkt.Timestamp-w.lastTS) < -3000 {
				w.tsBack++
			}
			if ext > w.high {
				w.lastTS = pkt.Timestamp
			}
			w.high = max(w.high, ext)
			w.video++
			if width, ok := vp8KeyframeWidth(pkt.Payload); ok {
				w.widths = append(w.widths, width)
			}
		} else {
			w.audio++
		}
		if !w.full && w.video >= w.wantVideo && w.audio >= w.wantAudio {
			w.full = true
			close(w.enough)
		}
		w.mu.Unlock()
	}
}

// holes returns the video sequence numbers missing from the first received
// up to margin below the highest.
func (w *testWatcher) holes(margin uint64) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for e := unwrapSeq(w.first.SequenceNumber, w.high); e+margin < w.high; e++ {
		if !w.seqs[e] {
			n++
		}
	}
	return n
}

// firstKeyframe reports whether the first video packet begins a keyframe.
func (w *testWatcher) firstKeyframe() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first != nil && codec.KeyframePacket(webrtc.MimeTypeVP8, w.first.Payload)
}

// pli sends the relay a PLI for the video track.
func (w *testWatcher) pli() error {
	w.mu.Lock()
	ssrc := w.trackSSRC
	w.mu.Unlock()
	return w.peerConnection().WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}

// readReports passes on the sender reports of the video receiver.
func (w *testWatcher) readReports(recv *webrtc.RTPReceiver) {
	for {
		pkts, _, err := recv.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				select {
				case w.srs <- sr:
				default:
				}
			}
		}
	}
}

// nack asks the relay again for the video packet received n before the
// highest.
func (w *testWatcher) nack(n uint64) error {
	w.mu.Lock()
	ssrc, seq := w.trackSSRC, uint16(w.high-n)
	w.mu.Unlock()
	return w.peerConnection().WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc, Nacks: []rtcp.NackPair{{PacketID: seq}}}})
}

// vp8KeyframeWidth returns the width of the VP8 keyframe an RTP payload
// begins (RFC 7741 §4.2 descriptor, RFC 6386 §9.1 frame header), and
// false for any other payload.
func vp8KeyframeWidth(p []byte) (int, bool) {
	if !codec.KeyframePacket(webrtc.MimeTypeVP8, p) || len(p) < 1 {
		return 0, false
	}
	n := 1
	if p[0]&0x80 != 0 && len(p) > 1 {
		x := p[1]
		n++
		if x&0x80 != 0 && len(p) > n {
			if p[n]&0x80 != 0 {
				n++
			}
			n++
		}
		if x&0x40 != 0 {
			n++
		}
		if x&0x30 != 0 {
			n++
		}
	}
	if len(p) < n+10 {
		return 0, false
	}
	f := p[n:]
	return int(f[6]) | int(f[7]&0x3f)<<8, true
}
