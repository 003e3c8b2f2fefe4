package viewer

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/record"
	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/session"
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
	// A watcher the talker puts in its queue (talk_reject {reason: "full",
	// position}) waits for its place however long it takes.
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
	// DialTimeout bounds connecting to the server; zero means
	// session.DefaultDialTimeout (10 s).
	DialTimeout time.Duration
	// Dial configures the socket.io connection (TLS, headers).
	Dial *sioclient.Options
	// Logger receives the viewer's records; nil discards them.
	Logger *slog.Logger
	// Layer, if set, is the simulcast layer to ask the room's relay for
	// (protocol.LayerLow, LayerMedium, LayerHigh or LayerAuto), with a
	// layer message after answering the relay's offer; empty leaves the
	// relay to choose. A talker's own offer has one layer.
	Layer string
	// ICEConn, if set, is the one UDP socket the media connections' ICE
	// uses (through a pion UDP mux, host candidates on the socket's
	// address, every interface's if unspecified) in place of sockets of
	// pion's own. It is a test hook: a socket that loses packets on
	// purpose. Run closes it when it returns.
	ICEConn net.PacketConn
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
	// Ended says why watching stopped: "duration", "talker_left",
	// "relay_left" (the room's relay, which served this watcher, left) or
	// "stopped".
	Ended string `json:"ended"`
	// Via says who sent the media: "direct" (the room's talker) or "relay"
	// (the room's relay, whose offer the server stamped relay: true).
	Via string `json:"via"`
	// Layer is the simulcast layer the relay last said it forwards
	// (protocol.LayerLow...), "paused" while the video was paused, or ""
	// if it said none (no relay, or no simulcast).
	Layer string `json:"layer,omitempty"`
}

// Values of Stats.Via.
const (
	ViaDirect = "direct"
	ViaRelay  = "relay"
)

// Viewer watches one room.
type Viewer struct {
	opts Options
	log  *slog.Logger
	api  *webrtc.API
	sess *session.Session

	// The signaling loop's own:
	phase       phase
	since       time.Time          // when phase began
	iceServers  []webrtc.ICEServer // from the last `entered`
	requestedAt time.Time          // the first talk_request, for time to first frame
	askedAt     time.Time          // the last talk_request or answer sent, to ask again

	frames, bytes, lost atomic.Int64
	videoLost           atomic.Int64 // the video track's loss so far, for reports
	plis, nacks         atomic.Uint32
	firstFrame          chan struct{} // closed at the first video keyframe
	firstOnce           sync.Once
	firstAt             atomic.Int64  // unix ns of the first keyframe
	mediaChanged        chan struct{} // the media connection's state changed
	failed              chan error

	candidates rtc.EarlyCandidates // the talker's, held until its offer is taken

	mu        sync.Mutex // guards pc, talker, viaRelay, rec, finishing
	pc        *webrtc.PeerConnection
	talker    string // the media session's peer: the room's talker, or its relay
	viaRelay  bool   // talker is the room's relay
	layer     string // Stats.Layer
	rec       *record.File
	finishing bool // no track reader may start: finish waits for those running

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
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Viewer{
		opts: opts, log: opts.Logger, since: time.Now(),
		firstFrame: make(chan struct{}), mediaChanged: make(chan struct{}, 1), failed: make(chan error, 1),
	}
}

// Run watches until ctx ends, Duration has passed since the first frame, or
// the talker leaves, then says bye, finalises the recording and returns what
// was received. It returns ErrNoTalker, ErrRoomFull, ErrRejected or
// ErrRefused when there is nothing to watch, and an error wrapping
// session.ErrUnreachable if the server cannot be reached.
//
// A connection to the server lost while watching (its node restarting) is
// made again by the session, for up to protocol.ResumeGrace. The media
// connection, and the recording, go on meanwhile: once either end is back
// under a new socket id, the viewer asks the talker to resume the session
// (a talk_request with the offer's ice-ufrag) and the talker answers
// talk_ready {resumed: true}. A talker that does not take it back within
// protocol.ResumeGrace, or offers a new session instead, has left.
func (v *Viewer) Run(ctx context.Context) (Stats, error) {
	var se webrtc.SettingEngine
	if v.opts.ICEConn != nil {
		mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: v.opts.ICEConn})
		defer func() { _ = mux.Close() }() // after finish closed the PeerConnection
		se.SetICEUDPMux(mux)
	}
	api, err := rtc.NewAPIWith(se, rtcpCounterFactory{nacks: &v.nacks, plis: &v.plis})
	if err != nil {
		return Stats{}, err
	}
	v.api = api
	sess, entered, err := session.Open(ctx, session.Config{
		Server: v.opts.Server, Dial: v.opts.Dial, DialTimeout: v.opts.DialTimeout, Logger: v.log,
		Enter:        protocol.EnterRequest{Room: v.opts.Room, Role: protocol.RoleWatcher, Key: v.opts.Key},
		ReconnectFor: protocol.ResumeGrace, // longer, and the talker has let the session go
	})
	if err != nil {
		return Stats{}, err
	}
	defer func() { _ = sess.Close() }()
	v.sess = sess

	ended, err := v.watch(ctx, entered)
	v.moveTo(phaseEnded)
	v.finish()
	return v.stats(ended), err
}

func (v *Viewer) send(msg protocol.Typed) {
	if err := v.sess.Send(msg); err != nil {
		v.log.Debug("send", "type", msg.MessageType(), "err", err)
	}
}

// currentTalker returns the socket id of the media session's peer: the
// room's talker, or its relay (see relayed).
func (v *Viewer) currentTalker() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.talker
}

// relayed reports whether the media session is with the room's relay.
func (v *Viewer) relayed() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.viaRelay
}

func (v *Viewer) peerConnection() *webrtc.PeerConnection {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.pc
}

// mediaUp reports whether the media connection is up.
func (v *Viewer) mediaUp() bool {
	pc := v.peerConnection()
	return pc != nil && pc.ConnectionState() == webrtc.PeerConnectionStateConnected
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
		if err := rec.Close(); err != nil {
			v.log.Warn("finalise recording", "err", err)
		}
	}
}
