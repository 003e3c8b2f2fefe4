package broadcaster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/broadcast-service/broadcast/internal/rtc"
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
	Video, Audio string
	// FPS paces H.264 files, which carry no timestamps; zero means 30.
	FPS float64
	// MaxWatchers is how many watchers are served at once; the next gets
	// talk_reject {reason: "full"}. Zero means 10.
	MaxWatchers int
	// OfferTimeout is how long a watcher has to answer the offer before it
	// is dropped, told with talk_reject {reason: "timeout"}, and its place
	// freed; zero means protocol.OfferTimeout (15 s).
	OfferTimeout time.Duration
	// DialTimeout bounds connecting to the server; zero means 10 s.
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

	sio        atomic.Pointer[sioclient.Client] // replaced on a reconnect; pion's callbacks send through it
	iceServers []webrtc.ICEServer
	retake     string // the room's retake token from `entered`, presented on every later enter

	mu    sync.Mutex // guards peers
	peers map[string]*peer
}

// track is one kind of media: a file source feeding a local track shared
// by all watchers.
type track struct {
	src     source
	local   *webrtc.TrackLocalStaticSample
	wantKey atomic.Bool // a watcher asked for a keyframe (PLI)
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
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.OfferTimeout <= 0 {
		opts.OfferTimeout = protocol.OfferTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Broadcaster{opts: opts, log: opts.Logger, peers: map[string]*peer{}}
	for _, f := range []struct {
		path string
		dst  **track
		kind string
	}{{opts.Video, &b.video, "video"}, {opts.Audio, &b.audio, "audio"}} {
		if f.path == "" {
			continue
		}
		src, err := openSource(f.path, opts.FPS)
		if err != nil {
			b.closeSources()
			return nil, err
		}
		isVideo := src.mimeType() != webrtc.MimeTypeOpus
		if isVideo != (f.kind == "video") {
			_ = src.Close()
			b.closeSources()
			return nil, fmt.Errorf("%w: %s is not %s", ErrUnsupportedMedia, f.path, f.kind)
		}
		local, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: src.mimeType()}, f.kind, "broadcast")
		if err != nil {
			_ = src.Close()
			b.closeSources()
			return nil, fmt.Errorf("%s track: %w", f.kind, err)
		}
		*f.dst = &track{src: src, local: local}
		b.tracks = append(b.tracks, *f.dst)
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

// Watchers returns how many watchers are being served.
func (b *Broadcaster) Watchers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.peers)
}

// Run connects to the server, goes on air in the room and serves watchers
// until ctx ends, then sends end_talk and closes every watcher's
// connection. It returns ErrRefused if the server refuses the talker, and
// an error if the server cannot be reached.
//
// A connection to the server lost while on air (a signaling node
// restarting, say) is made again, with waits from 250 ms up to 5 s between
// tries, until ctx ends. The talker comes back under a new socket id and
// says talk_ready again; its watchers' media connections that are still up
// wait protocol.ResumeGrace for them to resume (a talk_request with the offer's
// ice-ufrag, answered with talk_ready {resumed: true}), as talk.html does.
// A refusal while coming back (the room still held by the old socket, until
// its node is found dead) is retried the same way.
func (b *Broadcaster) Run(ctx context.Context) error {
	defer b.closeSources()
	defer func() {
		if sio := b.sio.Load(); sio != nil {
			_ = sio.Close()
		}
	}()
	if err := b.connect(ctx); err != nil {
		return err
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, len(b.tracks))
	for _, t := range b.tracks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := t.pace(ctx); err != nil {
				errs <- err
				stop()
			}
		}()
	}
	var err error
	for {
		if err = b.send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady}}); err == nil {
			b.log.Info("on air", "room", b.opts.Room, "socket_id", b.sio.Load().ID())
			err = b.serve(ctx)
		}
		if err == nil || ctx.Err() != nil {
			break
		}
		b.log.Warn("signaling connection lost: reconnecting", "err", err)
		b.orphanAll()
		if err = b.reconnect(ctx); err != nil {
			break
		}
	}
	if ctx.Err() != nil {
		err = nil
	}
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

// connect dials the server and takes the room as its talker. It returns
// ErrRefused if the server refuses the talker.
func (b *Broadcaster) connect(ctx context.Context) error {
	sio, err := rtc.Dial(ctx, b.opts.Server, b.opts.DialTimeout, b.opts.Dial)
	if err != nil {
		return err
	}
	if old := b.sio.Swap(sio); old != nil {
		_ = old.Close()
	}
	return b.enter(ctx, sio)
}

// reconnect connects again until it is in the room or ctx ends.
func (b *Broadcaster) reconnect(ctx context.Context) error {
	return rtc.Retry(ctx, b.connect, func(err error, next time.Duration) {
		b.log.Warn("reconnecting", "err", err, "next_try", next)
	})
}

// enter takes the room as its talker over sio and learns the ICE servers.
func (b *Broadcaster) enter(ctx context.Context, sio *sioclient.Client) error {
	req := protocol.EnterRequest{Room: b.opts.Room, Role: protocol.RoleTalker, Key: b.opts.Key, Retake: b.retake}
	if err := sio.Emit(protocol.EventEnter, req); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-sio.Events():
			if !ok {
				return fmt.Errorf("signaling connection lost: %w", sio.Err())
			}
			switch ev.Name {
			case protocol.EventEntered:
				var entered protocol.Entered
				entered, b.iceServers = rtc.Entered(ev)
				if entered.Retake != "" {
					b.retake = entered.Retake
				}
				return nil
			case protocol.EventError:
				return fmt.Errorf("%w: %s", ErrRefused, rtc.Refusal(ev))
			}
		}
	}
}

// serve handles signaling events until ctx ends (nil) or the connection
// is lost.
func (b *Broadcaster) serve(ctx context.Context) error {
	sio := b.sio.Load()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-sio.Events():
			if !ok {
				return fmt.Errorf("signaling connection lost: %w", sio.Err())
			}
			switch ev.Name {
			case protocol.EventMessage:
				var m protocol.Message
				if rtc.Decode(ev, &m) {
					b.handle(m)
				}
			case protocol.EventUserDisconnected:
				var m protocol.Message
				if rtc.Decode(ev, &m) {
					b.left(m.ID)
				}
			case protocol.EventError:
				b.log.Warn("signaling error", "err", rtc.Refusal(ev))
			}
		}
	}
}

func (b *Broadcaster) handle(m protocol.Message) {
	switch m.Type {
	case protocol.TypeTalkRequest:
		if m.Resume != "" && b.resume(m.From, m.Resume) {
			return
		}
		if p := b.peer(m.From); p != nil && p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
			// Asked again while an offer is out: the offer may have been
			// lost. The same offer again, not a new one, so that an answer
			// to either copy fits this PeerConnection.
			if offer := p.pc.LocalDescription(); offer != nil {
				b.log.Debug("offer repeated", "watcher", m.From)
				_ = b.send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: m.From}, SDP: offer.SDP})
			}
			return
		}
		b.drop(m.From)
		if b.Watchers() >= b.opts.MaxWatchers {
			_ = b.send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: m.From}, Reason: protocol.RejectFull})
			b.log.Info("watcher refused: full", "watcher", m.From, "max", b.opts.MaxWatchers)
			return
		}
		if err := b.offer(m.From); err != nil {
			b.log.Warn("offer failed", "watcher", m.From, "err", err)
			b.drop(m.From)
		}
	case protocol.TypeAnswer:
		if p := b.peer(m.From); p != nil {
			if err := p.answer(m.SDP); err != nil {
				b.log.Warn("bad answer", "watcher", m.From, "err", err)
				b.drop(m.From)
			}
		}
	case protocol.TypeCandidate:
		if p := b.peer(m.From); p != nil && m.Candidate != "" {
			p.candidate(rtc.ICECandidate(m))
		}
	case protocol.TypeBye:
		b.drop(m.From)
	}
}

func (b *Broadcaster) send(msg protocol.Typed) error {
	if err := b.sio.Load().Emit(protocol.EventMessage, msg); err != nil {
		return fmt.Errorf("send %v: %w", msg.MessageType(), err)
	}
	return nil
}

func (b *Broadcaster) peer(id string) *peer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peers[id]
}

// drop closes a watcher's connection, if there is one.
func (b *Broadcaster) drop(id string) {
	if p := b.peer(id); p != nil {
		b.dropPeer(p, 0)
	}
}

// dropPeer closes p if it is still a watcher's connection and, with an
// orphaning generation (not 0), still orphaned since then.
func (b *Broadcaster) dropPeer(p *peer, orphaned uint64) {
	b.mu.Lock()
	mine := b.peers[p.id] == p && (orphaned == 0 || (p.orphan != nil && p.orphans == orphaned))
	if mine {
		delete(b.peers, p.id)
		p.clearOrphanLocked()
		p.unanswered.Stop()
	}
	id, n := p.id, len(b.peers)
	b.mu.Unlock()
	if mine {
		p.close()
		b.log.Info("watcher left", "watcher", id, "watchers", n)
	}
}

func (b *Broadcaster) peerID(p *peer) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return p.id
}

func (b *Broadcaster) orphaned(p *peer) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return p.orphan != nil
}

// orphan keeps p, whose watcher's socket is gone, for protocol.ResumeGrace if
// its media connection is up (the watcher's signaling node may be
// restarting, and the watcher resume it), and drops it at once otherwise.
func (b *Broadcaster) orphan(p *peer) {
	if p.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		b.dropPeer(p, 0)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.peers[p.id] != p {
		return
	}
	p.clearOrphanLocked()
	p.orphans++
	gen := p.orphans
	p.orphan = time.AfterFunc(protocol.ResumeGrace, func() { b.dropPeer(p, gen) })
}

// left: the server says a watcher's socket is gone.
func (b *Broadcaster) left(id string) {
	if p := b.peer(id); p != nil {
		b.orphan(p)
	}
}

// orphanAll: this talker's own socket was lost, and the room has heard it
// leave, so every watcher is as good as gone until it resumes.
func (b *Broadcaster) orphanAll() {
	for _, p := range b.allPeers() {
		b.orphan(p)
	}
}

func (b *Broadcaster) allPeers() []*peer {
	b.mu.Lock()
	defer b.mu.Unlock()
	all := make([]*peer, 0, len(b.peers))
	for _, p := range b.peers {
		all = append(all, p)
	}
	return all
}

// resume takes a watcher back under the socket id it asks from, on the
// media connection it still has: the one whose offer had ufrag. It reports
// false when there is none, and the request is served anew.
func (b *Broadcaster) resume(id, ufrag string) bool {
	var found *peer
	for _, p := range b.allPeers() {
		if p.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			continue
		}
		if d := p.pc.LocalDescription(); d != nil && rtc.ICEUfrag(d.SDP) == ufrag {
			found = p
			break
		}
	}
	if found == nil {
		return false
	}
	b.mu.Lock()
	old := found.id
	if b.peers[old] != found {
		b.mu.Unlock()
		return false // dropped meanwhile
	}
	found.clearOrphanLocked()
	displaced := b.peers[id]
	if old != id {
		delete(b.peers, old)
		found.id = id
		b.peers[id] = found
	}
	if displaced != nil && displaced != found {
		displaced.clearOrphanLocked()
	} else {
		displaced = nil
	}
	b.mu.Unlock()
	if displaced != nil {
		displaced.close()
	}
	b.log.Info("watcher resumed", "watcher", id, "was", old)
	_ = b.send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady, Sendto: id}, Resumed: true})
	return true
}

// end tells the room the broadcast is over and closes every watcher.
func (b *Broadcaster) end() {
	_ = b.send(protocol.EndTalk{Head: protocol.Head{Type: protocol.TypeEndTalk}})
	b.closePeers()
}

// closePeers closes every watcher's connection.
func (b *Broadcaster) closePeers() {
	b.mu.Lock()
	peers := b.peers
	b.peers = map[string]*peer{}
	for _, p := range peers {
		p.clearOrphanLocked()
		p.unanswered.Stop()
	}
	b.mu.Unlock()
	for _, p := range peers {
		p.close()
	}
}

// Send sends text to every watcher whose data channel is open, and returns
// the errors of those it could not send to, joined.
func (b *Broadcaster) Send(text string) error {
	b.mu.Lock()
	var dcs []*webrtc.DataChannel
	for _, p := range b.peers {
		if p.dc != nil && p.dc.ReadyState() == webrtc.DataChannelStateOpen {
			dcs = append(dcs, p.dc)
		}
	}
	b.mu.Unlock()
	var errs []error
	for _, dc := range dcs {
		errs = append(errs, dc.SendText(text))
	}
	return errors.Join(errs...)
}

// pace writes the source's frames to the track at their own pace, looping.
// When a watcher has asked for a keyframe, it skips ahead to the next one.
func (t *track) pace(ctx context.Context) error {
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		f, err := t.src.next()
		if err != nil {
			return err
		}
		skipped := 0
		for t.wantKey.Load() && !f.key && skipped < 300 {
			if f, err = t.src.next(); err != nil {
				return err
			}
			skipped++
		}
		if f.key {
			t.wantKey.Store(false)
		}
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		// Skipped frames are left out of the RTP timeline rather than
		// reported as dropped: pion would also skip sequence numbers, which
		// receivers take for loss.
		err = t.local.WriteSample(media.Sample{Data: f.data, Duration: f.duration})
		if err != nil && !errors.Is(err, io.ErrClosedPipe) {
			return fmt.Errorf("write %s sample: %w", t.local.Kind(), err)
		}
		next = next.Add(f.duration)
		if lag := time.Since(next); lag > time.Second {
			next = time.Now() // fell behind (a stall): do not burst to catch up
		}
	}
}

// readRTCP answers a watcher's PLI and FIR by asking the track for a
// keyframe; it returns when the sender closes.
func (t *track) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				t.wantKey.Store(true)
			}
		}
	}
}
