package viewer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// Options configure a Viewer.
type Options struct {
	// Server is the signaling server's base URL (http, https).
	Server string
	// Room is the room to watch; Key a watch key, if the room needs one.
	Room, Key string
	// Record, if set, is the file to record into (.webm).
	Record string
	// Duration, if set, stops watching after this long from the first frame.
	Duration time.Duration
	// WaitTalker is how long to wait for the talker's offer; zero means 10 s.
	WaitTalker time.Duration
	// Retry is how long to wait for the talker's offer, or for the media
	// connection once answered, before asking again: a talk_request, or the
	// same answer again. Messages between nodes are lost while Redis is
	// away; the talker takes a repeat as the same request. Zero means
	// protocol.RetryInterval (3 s).
	Retry time.Duration
	// Data receives what the talker sends on the data channel, a line per
	// text message; binary messages are written as they are. Nil discards.
	Data io.Writer
	// OnLive, if set, is called once, at the first video keyframe.
	OnLive func()
	// ReportEvery is how often a quality report (a `stats` message) goes to
	// the talker, as watch.html sends them; zero means
	// protocol.ReportInterval (2 s).
	ReportEvery time.Duration
	// DialTimeout bounds connecting to the server; zero means 10 s.
	DialTimeout time.Duration
	// Dial configures the socket.io connection (TLS, headers).
	Dial *sioclient.Options
	// Logger receives the viewer's records; nil discards them.
	Logger *slog.Logger
}

// Stats is what a Viewer received, printed as one JSON line by
// `broadcast watch`.
type Stats struct {
	// TimeToFirstFrameMS is from the request to the first video keyframe, in ms.
	TimeToFirstFrameMS float64 `json:"ttff_ms"`
	// Frames is the number of video frames received after the first keyframe.
	Frames int64 `json:"frames"`
	// Bytes is the media payload received, in bytes.
	Bytes int64 `json:"bytes"`
	// Bitrate is Bytes over the time since the first frame, in bits/s.
	Bitrate float64 `json:"bitrate_bps"`
	// PacketsLost is the RTP packets lost, by the receiver's reports.
	PacketsLost int64 `json:"packets_lost"`
	// NACKs and PLIs are the retransmission requests (RFC 4585 §6.2.1) and
	// picture loss indications (§6.3.1) sent.
	NACKs uint32 `json:"nacks_sent"`
	PLIs  uint32 `json:"plis_sent"`
	// Ended says why watching stopped: "duration", "talker_left" or "stopped".
	Ended string `json:"ended"`
}

// Viewer watches one room.
type Viewer struct {
	opts Options
	log  *slog.Logger
	api  *webrtc.API

	sio        atomic.Pointer[sioclient.Client] // replaced on a reconnect; pion's callbacks send through it
	iceServers []webrtc.ICEServer
	requested  time.Time // the first talk_request, for time to first frame
	asked      time.Time // the last talk_request or answer sent
	resuming   time.Time // since when this viewer asks to resume its session (zero: not); signaling loop only
	talkerGone time.Time // since when the talker's socket is gone with the media up (zero: not); signaling loop only

	frames, bytes, lost atomic.Int64
	videoLost           atomic.Int64 // the video track's loss so far, for reports
	plis, nacks         atomic.Uint32
	firstFrame          chan struct{} // closed at the first video keyframe
	firstOnce           sync.Once
	firstAt             atomic.Int64 // unix ns of the first keyframe

	mu        sync.Mutex // guards pc, talker, pending, rec, finishing
	pc        *webrtc.PeerConnection
	talker    string
	pending   []protocol.Message // candidates that came before their offer
	rec       *recorder
	finishing bool // no track reader may start: finish waits for those running
	failed    chan error

	receiving sync.WaitGroup // the track readers, done once the connection closes
}

// New returns a Viewer for opts.
func New(opts Options) *Viewer {
	if opts.WaitTalker <= 0 {
		opts.WaitTalker = 10 * time.Second
	}
	if opts.ReportEvery <= 0 {
		opts.ReportEvery = protocol.ReportInterval
	}
	if opts.Retry <= 0 {
		opts.Retry = protocol.RetryInterval
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Viewer{opts: opts, log: opts.Logger, firstFrame: make(chan struct{}), failed: make(chan error, 1)}
}

// Run watches until ctx ends, Duration has passed since the first frame, or
// the talker leaves, then says bye, finalises the recording and returns what
// was received. It returns ErrNoTalker, ErrRoomFull, ErrRejected or ErrRefused when there
// is nothing to watch, and an error if the server cannot be reached.
//
// A connection to the server lost while watching (its node restarting) is
// made again as the Go talker does. The media connection, and the
// recording, go on meanwhile: once either end is back under a new socket
// id, the viewer asks the talker to resume the session (a talk_request with
// the offer's ice-ufrag) and the talker answers talk_ready {resumed: true}.
// A talker that does not take it back within protocol.ResumeGrace, or offers a
// new session instead, has left.
func (v *Viewer) Run(ctx context.Context) (Stats, error) {
	api, err := rtc.NewAPI(rtcpCounterFactory{nacks: &v.nacks, plis: &v.plis})
	if err != nil {
		return Stats{}, err
	}
	v.api = api

	if err := v.dial(ctx); err != nil {
		return Stats{}, err
	}
	defer func() { _ = v.sio.Load().Close() }()

	ended, err := v.watch(ctx)
	v.finish()
	st := v.stats(ended)
	return st, err
}

func (v *Viewer) send(msg protocol.Typed) {
	if err := v.sio.Load().Emit(protocol.EventMessage, msg); err != nil {
		v.log.Debug("send", "type", msg.MessageType(), "err", err)
	}
}

func (v *Viewer) request(to string) {
	v.asked = time.Now()
	v.send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: to}})
}

// nudge asks again when the talker seems not to have heard: a talk_request
// while no offer has come, the same answer while the media connection is
// still to come up. Called from the signaling loop only.
func (v *Viewer) nudge() {
	if v.requested.IsZero() || !v.resuming.IsZero() || time.Since(v.asked) < v.opts.Retry {
		return
	}
	v.mu.Lock()
	pc, talker := v.pc, v.talker
	v.mu.Unlock()
	if pc == nil {
		v.request("") // the room's talker alone hears it, if there is one
		return
	}
	switch pc.ConnectionState() {
	case webrtc.PeerConnectionStateNew, webrtc.PeerConnectionStateConnecting:
		if answer := pc.LocalDescription(); answer != nil {
			v.log.Debug("answer repeated", "talker", talker)
			v.sendAnswer(answer.SDP, talker)
		}
	}
}

func (v *Viewer) sendAnswer(sdp, talker string) {
	v.asked = time.Now()
	v.send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: talker}, SDP: sdp})
}

// dial connects to the server, in place of any earlier connection.
func (v *Viewer) dial(ctx context.Context) error {
	sio, err := rtc.Dial(ctx, v.opts.Server, v.opts.DialTimeout, v.opts.Dial)
	if err != nil {
		return err
	}
	if old := v.sio.Swap(sio); old != nil {
		_ = old.Close()
	}
	return nil
}

// enter asks to enter the room over the current connection; the signaling
// loop hears the reply.
func (v *Viewer) enter() error {
	req := protocol.EnterRequest{Room: v.opts.Room, Role: protocol.RoleWatcher, Key: v.opts.Key}
	return v.sio.Load().Emit(protocol.EventEnter, req)
}

// reconnect dials the server again and asks to enter, for up to
// protocol.ResumeGrace: longer, and the talker has let the session go.
func (v *Viewer) reconnect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, protocol.ResumeGrace)
	defer cancel()
	var last error
	err := rtc.Retry(ctx, func(ctx context.Context) error {
		if err := v.dial(ctx); err != nil {
			return err
		}
		return v.enter()
	}, func(err error, next time.Duration) {
		last = err
		v.log.Warn("reconnecting", "err", err, "next_try", next)
	})
	if err != nil && last != nil {
		err = last
	}
	return err
}

// watch runs the signaling loop; it returns why it ended.
func (v *Viewer) watch(ctx context.Context) (string, error) {
	if err := v.enter(); err != nil {
		return "", err
	}
	events := v.sio.Load().Events()
	noTalker := time.NewTimer(v.opts.WaitTalker)
	defer noTalker.Stop()
	var done <-chan time.Time // the Duration, once the first frame is in
	first := v.firstFrame
	reports := time.NewTicker(v.opts.ReportEvery)
	defer reports.Stop()
	retry := time.NewTicker(v.opts.Retry / 3)
	defer retry.Stop()
	var last reportBase
	for {
		select {
		case <-retry.C:
			if v.resumeLost() {
				return "talker_left", nil
			}
			v.nudge()
		case <-reports.C:
			// Not while the talker is away: its socket id may be gone.
			if talker := v.currentTalker(); talker != "" && v.firstAt.Load() > 0 && v.resuming.IsZero() && v.talkerGone.IsZero() {
				v.send(last.next(v, talker))
			}
		case <-ctx.Done():
			return "stopped", nil
		case <-noTalker.C:
			return "", fmt.Errorf("%w after %v", ErrNoTalker, v.opts.WaitTalker)
		case <-first:
			first = nil
			noTalker.Stop()
			if v.opts.Duration > 0 {
				done = time.After(v.opts.Duration)
			}
		case <-done:
			return "duration", nil
		case err := <-v.failed:
			return "", err
		case ev, ok := <-events:
			if !ok {
				lost := v.sio.Load().Err()
				v.log.Warn("signaling connection lost: reconnecting", "err", lost)
				if err := v.reconnect(ctx); err != nil {
					if ctx.Err() != nil {
						return "stopped", nil
					}
					return "", fmt.Errorf("signaling connection lost: %w (reconnecting: %w)", lost, err)
				}
				events = v.sio.Load().Events()
				continue
			}
			ended, err := v.event(ev)
			if ended != "" || err != nil {
				return ended, err
			}
		}
	}
}

func (v *Viewer) event(ev sioclient.Event) (string, error) {
	var m protocol.Message
	rtc.Decode(ev, &m)
	switch ev.Name {
	case protocol.EventEntered:
		_, v.iceServers = rtc.Entered(ev)
		switch {
		case v.requested.IsZero():
			v.requested = time.Now()
			v.request("") // the room's talker, if it has one, answers
		case v.mediaUp():
			v.askResume() // back under a new socket id, with the media up
		default:
			v.request("") // back with nothing to keep: ask again
		}
	case protocol.EventError:
		if v.requested.IsZero() {
			return "", fmt.Errorf("%w: %s", ErrRefused, rtc.Refusal(ev))
		}
		v.log.Warn("signaling error", "err", rtc.Refusal(ev))
	case protocol.EventUserDisconnected:
		if m.ID != "" && m.ID == v.currentTalker() {
			if !v.mediaUp() {
				return "talker_left", nil
			}
			// The media is up: the talker's node may be restarting. It has
			// protocol.ResumeGrace to come back (see resumeLost).
			if v.talkerGone.IsZero() {
				v.talkerGone = time.Now()
			}
		}
	case protocol.EventMessage:
		switch m.Type {
		case protocol.TypeTalkReady:
			switch {
			case m.Resumed:
				if !v.resuming.IsZero() || !v.talkerGone.IsZero() {
					v.resumed(m.From)
				}
			case v.mediaUp():
				if !v.talkerGone.IsZero() || m.From != v.currentTalker() {
					v.askResume() // the talker is back, under a new socket id
				}
			case v.currentTalker() == "" || v.peerConnection() == nil:
				v.request(m.From)
			}
		case protocol.TypeOffer:
			if (!v.resuming.IsZero() || !v.talkerGone.IsZero()) && !v.sameSession(m.SDP) {
				return "talker_left", nil // a new session: the talker could not take ours back
			}
			if err := v.answer(m); err != nil {
				return "", err
			}
		case protocol.TypeCandidate:
			v.candidate(m)
		case protocol.TypeTalkReject:
			if m.Reason == protocol.RejectFull {
				return "", fmt.Errorf("%w: %s", ErrRoomFull, m.Reason)
			}
			return "", fmt.Errorf("%w: %s", ErrRejected, m.Reason)
		case protocol.TypeEndTalk:
			if m.From == v.currentTalker() {
				return "talker_left", nil
			}
		}
	}
	return "", nil
}

// mediaUp reports whether the media connection is up.
func (v *Viewer) mediaUp() bool {
	pc := v.peerConnection()
	return pc != nil && pc.ConnectionState() == webrtc.PeerConnectionStateConnected
}

// sameSession reports whether an offer is for the current media session:
// the same ice-ufrag as the offer it answered.
func (v *Viewer) sameSession(sdp string) bool {
	pc := v.peerConnection()
	if pc == nil {
		return false
	}
	d := pc.RemoteDescription()
	u := rtc.ICEUfrag(sdp)
	return d != nil && u != "" && rtc.ICEUfrag(d.SDP) == u
}

// askResume asks the room's talker to take back the media session, by the
// ice-ufrag of its offer. Called from the signaling loop only.
func (v *Viewer) askResume() {
	pc := v.peerConnection()
	if pc == nil {
		return
	}
	d := pc.RemoteDescription()
	if d == nil {
		return
	}
	if v.resuming.IsZero() {
		v.resuming = time.Now()
	}
	v.asked = time.Now()
	v.send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}, Resume: rtc.ICEUfrag(d.SDP)})
}

// resumed: the talker, under socket id from, took the session back.
func (v *Viewer) resumed(from string) {
	v.mu.Lock()
	v.talker = from
	v.mu.Unlock()
	v.resuming, v.talkerGone = time.Time{}, time.Time{}
	v.log.Info("session resumed", "talker", from)
}

// resumeLost reports whether the talker let the session go: not resumed
// within protocol.ResumeGrace, or its media gone with its socket. While it may
// still come back, the request to resume is repeated every Retry.
func (v *Viewer) resumeLost() bool {
	if !v.talkerGone.IsZero() && (time.Since(v.talkerGone) > protocol.ResumeGrace || !v.mediaUp()) {
		return true
	}
	if v.resuming.IsZero() {
		return false
	}
	if time.Since(v.resuming) > protocol.ResumeGrace {
		return true
	}
	if time.Since(v.asked) >= v.opts.Retry {
		v.askResume()
	}
	return false
}

func (v *Viewer) currentTalker() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.talker
}

func (v *Viewer) peerConnection() *webrtc.PeerConnection {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.pc
}

// answer takes the talker's offer: a new PeerConnection, recording what it
// brings, and an answer back. The same offer again (the talker did not hear
// the answer) gets the same answer again.
func (v *Viewer) answer(m protocol.Message) error {
	v.mu.Lock()
	cur, talker := v.pc, v.talker
	v.mu.Unlock()
	if talker == m.From && v.sameSession(m.SDP) {
		if local := cur.LocalDescription(); local != nil {
			v.log.Debug("offer repeated: answer repeated", "talker", talker)
			v.sendAnswer(local.SDP, talker)
			return nil
		}
	}
	offer := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}
	if v.opts.Record != "" {
		rec, err := newRecorder(v.opts.Record, strings.Contains(m.SDP, "m=audio"))
		if err != nil {
			return err
		}
		v.mu.Lock()
		v.rec = rec
		v.mu.Unlock()
	}
	pc, err := v.api.NewPeerConnection(webrtc.Configuration{ICEServers: v.iceServers})
	if err != nil {
		return fmt.Errorf("peer connection: %w", err)
	}
	v.mu.Lock()
	old := v.pc
	// A talker's candidates can overtake its offer (pion trickles from its
	// own goroutine): keep the ones this talker sent, drop any others.
	var early []protocol.Message
	for _, c := range v.pending {
		if c.From == m.From {
			early = append(early, c)
		}
	}
	v.pc, v.talker, v.pending = pc, m.From, early
	v.mu.Unlock()
	if old != nil {
		_ = old.Close() // its track readers end, and finish waits for them
	}
	talker = m.From
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			v.send(rtc.CandidateMessage(c, talker))
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		// pion calls this on a goroutine of its own, which may start as
		// finish waits: under mu, a reader either counts before the wait
		// or does not start.
		v.mu.Lock()
		if v.finishing {
			v.mu.Unlock()
			return
		}
		v.receiving.Add(1)
		v.mu.Unlock()
		defer v.receiving.Done()
		v.receive(pc, t)
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(msg webrtc.DataChannelMessage) {
			if v.opts.Data == nil {
				return
			}
			if msg.IsString {
				_, _ = fmt.Fprintln(v.opts.Data, string(msg.Data))
			} else {
				_, _ = v.opts.Data.Write(msg.Data)
			}
		})
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		v.log.Debug("connection", "state", s.String())
		if s == webrtc.PeerConnectionStateFailed {
			select {
			case v.failed <- errors.New("the media connection failed"):
			default:
			}
		}
	})
	if err := pc.SetRemoteDescription(offer); err != nil {
		return fmt.Errorf("set remote description: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	v.sendAnswer(answer.SDP, talker)
	v.mu.Lock()
	pending := v.pending
	v.pending = nil
	v.mu.Unlock()
	for _, c := range pending {
		_ = pc.AddICECandidate(rtc.ICECandidate(c))
	}
	return nil
}

func (v *Viewer) candidate(m protocol.Message) {
	if m.Candidate == "" {
		return
	}
	v.mu.Lock()
	pc := v.pc
	if pc == nil || pc.RemoteDescription() == nil || m.From != v.talker {
		// Its offer is still to come; answer keeps it if the offer does.
		if len(v.pending) < protocol.MaxPendingCandidates {
			v.pending = append(v.pending, m)
		}
		v.mu.Unlock()
		return
	}
	v.mu.Unlock()
	_ = pc.AddICECandidate(rtc.ICECandidate(m))
}

// receive reads one remote track into samples: counted, and recorded.
func (v *Viewer) receive(pc *webrtc.PeerConnection, t *webrtc.TrackRemote) {
	mime := t.Codec().MimeType
	var depack rtp.Depacketizer
	kind := "video"
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		depack, mime = &codecs.VP8Packet{}, webrtc.MimeTypeVP8
	case strings.ToLower(webrtc.MimeTypeVP9):
		depack, mime = &codecs.VP9Packet{}, webrtc.MimeTypeVP9
	case strings.ToLower(webrtc.MimeTypeH264):
		depack, mime = &codecs.H264Packet{IsAVC: true}, webrtc.MimeTypeH264
	case strings.ToLower(webrtc.MimeTypeOpus):
		depack, kind = &codecs.OpusPacket{}, "audio"
	default:
		v.log.Warn("track not recorded", "codec", mime)
		for {
			if _, _, err := t.ReadRTP(); err != nil {
				return
			}
		}
	}
	clock := float64(t.Codec().ClockRate)
	v.mu.Lock()
	rec := v.rec
	v.mu.Unlock()
	if rec != nil && kind == "video" {
		if err := rec.setVideo(mime); err != nil {
			select {
			case v.failed <- err:
			default:
			}
			return
		}
	}
	sb := samplebuilder.New(512, depack, t.Codec().ClockRate)
	keyed := kind == "audio"
	firstKey := make(chan struct{}) // closed at this track's first keyframe
	if !keyed {
		trackDone := make(chan struct{})
		asking := make(chan struct{})
		go func() {
			defer close(asking)
			askKeyframe(func() {
				_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.SSRC())}})
			}, keyframeAskEvery, keyframeAskTries, firstKey, trackDone)
		}()
		defer func() {
			close(trackDone)
			<-asking
		}()
	}
	var seq seqTracker
	defer func() { v.lost.Add(seq.lost()) }()
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		seq.push(pkt.SequenceNumber)
		if kind == "video" {
			v.videoLost.Store(seq.lost())
		}
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			key, w, h := false, 0, 0
			var private []byte
			if kind == "video" {
				if mime == webrtc.MimeTypeH264 {
					var sps, pps []byte
					if key, sps, pps = h264Keyframe(s.Data); key {
						if private, err = avcConfig(sps, pps); err != nil {
							key = false // wait for an IDR that brings its parameter sets
						} else if w, h, err = spsSize(sps); err != nil {
							v.log.Debug("keyframe skipped", "err", err)
							key = false // wait for one with parameter sets that parse
						}
					}
				} else {
					key, w, h = keyframeSize(mime, s.Data)
				}
				if !keyed && !key {
					continue
				}
				if !keyed {
					keyed = true
					close(firstKey)
					v.firstOnce.Do(func() {
						v.firstAt.Store(time.Now().UnixNano())
						close(v.firstFrame)
						v.log.Info("live", "codec", mime, "ttff_ms", time.Since(v.requested).Milliseconds())
						if v.opts.OnLive != nil {
							v.opts.OnLive()
						}
					})
				}
				v.frames.Add(1)
			}
			v.bytes.Add(int64(len(s.Data)))
			if rec != nil {
				if err := rec.write(kind, s.Data, s.PacketTimestamp, clock, key || kind == "audio", w, h, private); err != nil {
					select {
					case v.failed <- err:
					default:
					}
					return
				}
			}
		}
	}
}

// finish says bye, closes the connection and finalises the recording.
func (v *Viewer) finish() {
	v.mu.Lock()
	pc, talker, rec := v.pc, v.talker, v.rec
	v.finishing = true
	v.mu.Unlock()
	if talker != "" {
		v.send(protocol.Bye{Head: protocol.Head{Type: protocol.TypeBye, Sendto: talker}})
	}
	if pc != nil {
		_ = pc.Close()
	}
	v.receiving.Wait()
	if rec != nil {
		if err := rec.close(); err != nil {
			v.log.Warn("finalise recording", "err", err)
		}
	}
}
