package broadcaster

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/internal/watchers"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// Options configure a Broadcaster.
type Options struct {
	// Server is the signaling server's base URL (http, https).
	Server string
	// Room is the room to broadcast to; Key its talk key, if the server is
	// keyed.
	Room, Key string
	// Video and Audio are media files: Video .ivf (VP8, VP9) or .h264 (H.264
	// Annex B), Audio .ogg (Opus). At least one is needed. Both loop.
	// Video may name up to three files of one codec, separated by commas,
	// highest quality first: the simulcast layers (rids "f", "h", "q")
	// sent to the room's relay, which forwards each of its watchers one;
	// a direct watcher gets the first alone.
	Video, Audio string
	// FPS paces H.264 files, which carry no timestamps; zero means 30.
	FPS float64
	// MaxWatchers is how many watchers are served at once; the next gets
	// talk_reject {reason: "full"}. The room's relay (a talk_request the
	// server stamped relay: true), one stream that feeds many, is served
	// beyond it and takes no watcher's place. Zero means 10.
	MaxWatchers int
	// OfferTimeout is how long a watcher has to answer the offer before it
	// is dropped, told with talk_reject {reason: "timeout"}, and its place
	// freed; zero means protocol.OfferTimeout (15 s).
	OfferTimeout time.Duration
	// DialTimeout bounds connecting to the server; zero means
	// session.DefaultDialTimeout (10 s).
	DialTimeout time.Duration
	// Dial configures the socket.io connection (TLS, headers).
	Dial *sioclient.Options
	// Logger receives the broadcaster's records; nil discards them.
	Logger *slog.Logger
}

// Broadcaster is a room's talker, on air from media files.
type Broadcaster struct {
	opts   Options
	log    *slog.Logger
	api    *webrtc.API
	video  *track
	audio  *track
	tracks []*track
	// layers are the simulcast layers, lowest first, each with its rid
	// (layer); nil with one video file. The highest is video's source.
	layers []*track

	sess       *session.Session
	iceServers []webrtc.ICEServer // from the last `entered`; signaling loop only

	watchers *watchers.Table[*peer] // those served, keyed by socket id
	onAirAt  atomic.Int64           // unix nanoseconds of the first talk_ready; 0 before
}

// New opens the media files, so that a missing, unreadable or unsupported
// file is reported before going on air. It returns ErrNoMedia without files
// and ErrUnsupportedMedia for a format it cannot send.
func New(opts Options) (*Broadcaster, error) {
	if opts.Video == "" && opts.Audio == "" {
		return nil, ErrNoMedia
	}
	if opts.MaxWatchers <= 0 {
		opts.MaxWatchers = 10
	}
	if opts.OfferTimeout <= 0 {
		opts.OfferTimeout = protocol.OfferTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Broadcaster{opts: opts, log: opts.Logger}
	b.watchers = b.newWatchers()
	if err := b.openMedia(); err != nil {
		b.closeSources()
		return nil, err
	}
	api, err := rtc.NewAPI()
	if err != nil {
		b.closeSources()
		return nil, err
	}
	b.api = api
	return b, nil
}

func (b *Broadcaster) closeSources() {
	for _, t := range b.tracks {
		_ = t.src.Close()
	}
}

// Run connects to the server, goes on air in the room and serves watchers
// until ctx ends, then sends end_talk and closes every watcher's
// connection. It returns ErrRefused if the server refuses the talker, and
// an error wrapping session.ErrUnreachable if the server cannot be reached.
//
// A connection to the server lost while on air (a signaling node
// restarting, say) is made again by the session until ctx ends. The talker
// comes back under a new socket id and says talk_ready again; its
// watchers' media connections that are still up wait protocol.ResumeGrace
// for them to resume (a talk_request with the offer's ice-ufrag, answered
// with talk_ready {resumed: true}), as talk.html does.
func (b *Broadcaster) Run(ctx context.Context) error {
	defer b.closeSources()
	sess, entered, err := session.Open(ctx, session.Config{
		Server: b.opts.Server, Dial: b.opts.Dial, DialTimeout: b.opts.DialTimeout, Logger: b.log,
		Enter: protocol.EnterRequest{Room: b.opts.Room, Role: protocol.RoleTalker, Key: b.opts.Key},
	})
	if err != nil {
		return err
	}
	defer func() { _ = sess.Close() }()
	b.sess = sess

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, len(b.tracks))
	for _, t := range b.tracks {
		wg.Go(func() {
			if err := t.pace(ctx); err != nil {
				errs <- err
				stop()
			}
		})
	}
	err = b.serve(ctx, entered)
	stop()
	wg.Wait()
	b.end()
	select {
	case perr := <-errs:
		return perr
	default:
	}
	return err
}

// serve goes on air and handles what the session hears until ctx ends
// (nil) or the connection is lost for good.
func (b *Broadcaster) serve(ctx context.Context, entered session.Entered) error {
	b.onAir(entered)
	for ev := range b.sess.Events() {
		switch e := ev.(type) {
		case session.Entered:
			b.onAir(e) // back under a new socket id
		case session.Lost:
			// The room has heard this talker leave: every watcher is as
			// good as gone until it resumes.
			b.watchers.OrphanAll()
		case session.Message:
			b.handle(e.Message)
		case session.Left:
			b.watchers.Left(e.ID)
		case session.Refused:
			b.log.Log(ctx, e.Level(), "signaling error", "code", e.Code, "message", e.Message)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return b.sess.Err()
}

// onAir says talk_ready to the room, once in it.
func (b *Broadcaster) onAir(e session.Entered) {
	b.iceServers = e.ICEServers
	if err := b.send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady}}); err != nil {
		b.log.Warn("talk_ready", "err", err)
		return
	}
	b.onAirAt.CompareAndSwap(0, time.Now().UnixNano())
	b.log.Info("on air", "room", b.opts.Room, "socket_id", b.sess.ID())
}

// handle is one `message` from a watcher.
func (b *Broadcaster) handle(m protocol.Message) {
	if m.Type == protocol.TypeTalkRequest {
		b.watchers.Request(m.From, m.Resume, m.Relay)
		return
	}
	b.watchers.Handle(m)
}

func (b *Broadcaster) send(msg protocol.Typed) error { return b.sess.Send(msg) }

// end tells the room the broadcast is over and closes every watcher.
func (b *Broadcaster) end() {
	_ = b.send(protocol.EndTalk{Head: protocol.Head{Type: protocol.TypeEndTalk}})
	b.closePeers()
}

// Send sends text to every watcher whose data channel is open, and returns
// the errors of those it could not send to, joined.
func (b *Broadcaster) Send(text string) error {
	var errs []error
	for _, p := range b.watchers.Peers() {
		if p.dc != nil && p.dc.ReadyState() == webrtc.DataChannelStateOpen {
			errs = append(errs, p.dc.SendText(text))
		}
	}
	return errors.Join(errs...)
}

// onAirFor returns how long b has been on air, since its first
// talk_ready; 0 before it.
func (b *Broadcaster) onAirFor() time.Duration {
	at := b.onAirAt.Load()
	if at == 0 {
		return 0
	}
	return time.Since(time.Unix(0, at))
}
