package relay

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/internal/watchers"
	"github.com/broadcast-service/broadcast/protocol"
)

// Room is one room's relay: a watcher toward the room's talker, whose
// tracks it receives once, and a talker toward the watchers it serves, each
// with a PeerConnection of its own fed from the talker's tracks. It runs
// over a Signal: Run is called once.
type Room struct {
	eng  *Engine
	cfg  Config
	log  *slog.Logger
	sig  Signal
	ice  []webrtc.ICEServer // from `entered`; set before anything else runs
	done chan struct{}      // closed as Run ends: the room's goroutines stop

	ended       chan error    // why the talker's session ended, from pion's goroutines
	tracksReady chan struct{} // the talker's tracks are all in

	watchers *watchers.Table[*watcher] // those served: offered to or connected

	mu      sync.Mutex // guards what follows
	closing bool       // Run is ending: no goroutine starts
	wg      sync.WaitGroup
	talker  talker
	tracks  []*talkerTrack
	kindsIn []webrtc.RTPCodecType // the kinds a track of which came
	ready   bool                  // a track of each kind of the talker's offer is in
	pending []heldRequest         // watchers who asked before the talker's tracks were in
	// recordings are the room's recordings (Record).
	recordings []*roomRecording

	stats counters
}

// NewRoom returns a room's relay on eng over sig, which is entered in the
// room with role relay.
func NewRoom(eng *Engine, sig Signal) *Room {
	r := &Room{
		eng: eng, cfg: eng.cfg, log: eng.cfg.Logger, sig: sig,
		done: make(chan struct{}), ended: make(chan error, 1), tracksReady: make(chan struct{}, 1),
	}
	r.watchers = watchers.New(watchers.Config[*watcher]{
		New: r.newWatcher, Send: sig.Send,
		MaxWatchers: r.cfg.MaxWatchers, OfferTimeout: r.cfg.OfferTimeout, RejectDropped: true, Resume: true,
		Report: r.passReport, Left: r.tellLeft, Resumed: r.tellResumed, OnAir: r.onAirFor, Go: r.spawn, Logger: r.log,
	})
	return r
}

// Watchers returns how many watchers the relay serves (offered to or
// connected).
func (r *Room) Watchers() int { return r.watchers.Len() }

// Run relays the room, whose `entered` reply (with its ICE servers) was
// entered, until the talker leaves or has not offered its media within
// Config.OfferTimeout (an error wrapping ErrTalkerLeft), the
// signaling ends or loses its connection (ErrSignalLost) or ctx ends
// (nil). It closes every PeerConnection and waits for its goroutines
// before it returns.
func (r *Room) Run(ctx context.Context, entered session.Entered) error {
	r.ice = entered.ICEServers
	defer r.shutdown()
	r.log.Info("relay on", "room", entered.Room, "socket_id", r.sig.ID())
	r.askTalker("")
	retry := time.NewTicker(protocol.RetryInterval)
	defer retry.Stop()
	reports := time.NewTicker(protocol.ReportInterval)
	defer reports.Stop()
	senderReports := time.NewTicker(senderReportEvery)
	defer senderReports.Stop()
	measured := time.Now()
	// A talker that never offers (it left before it was heard, or ignores
	// the relay) would hold the room's relay place for good.
	noOffer := time.NewTimer(r.cfg.OfferTimeout)
	defer noOffer.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case err = <-r.ended:
		case <-r.tracksReady:
			r.servePending()
			r.beginRecordings()
		case <-retry.C:
			r.nudgeTalker()
		case <-reports.C:
			r.reportToTalker()
		case now := <-senderReports.C:
			r.sendSenderReports()
			r.chooseLayers(now.Sub(measured))
			measured = now
		case <-noOffer.C:
			if !r.offered() {
				err = fmt.Errorf("%w: no offer within %v", ErrTalkerLeft, r.cfg.OfferTimeout)
			}
		case ev, ok := <-r.sig.Events():
			if !ok {
				return fmt.Errorf("%w: signaling closed", ErrSignalLost)
			}
			err = r.event(ev)
		}
		if err != nil {
			r.log.Info("relay off", "why", err)
			return err
		}
	}
}

// event is one thing the signaling heard.
func (r *Room) event(ev session.Event) error {
	switch e := ev.(type) {
	case session.Lost:
		// The room heard the relay leave; its watchers' sessions end.
		return fmt.Errorf("%w: %w", ErrSignalLost, e.Err)
	case session.Entered:
		return fmt.Errorf("%w: back under a new socket id", ErrSignalLost)
	case session.Refused:
		r.log.Log(context.Background(), e.Level(), "signaling error", "code", e.Code, "message", e.Message)
	case session.Left:
		return r.left(e.ID)
	case session.Message:
		return r.message(e.Message)
	}
	return nil
}

// message is one `message`, from the talker or a watcher.
func (r *Room) message(m protocol.Message) error {
	switch m.Type {
	case protocol.TypeTalkReady:
		r.talkReady(m.From, m.Resumed)
	case protocol.TypeOffer:
		return r.talkerOffer(m)
	case protocol.TypeEndTalk:
		if r.isTalker(m.From) {
			return fmt.Errorf("%w: end_talk", ErrTalkerLeft)
		}
	case protocol.TypeTalkReject:
		return fmt.Errorf("%w: the talker refused the relay (%s)", ErrTalkerLeft, m.Reason)
	case protocol.TypeTalkRequest:
		r.request(m.From, m.Resume, m.Offer)
	case protocol.TypeLayer:
		r.pinLayer(m.From, m.Pin)
	case protocol.TypeCandidate, protocol.TypeAnswer, protocol.TypeBye, protocol.TypeStats:
		if !r.watchers.Handle(m) && m.Type == protocol.TypeCandidate {
			r.talker.candidates.Add(m.From, rtc.ICECandidate(m))
		}
	}
	return nil
}

// left: a socket left the room: the talker or a watcher (each has
// protocol.ResumeGrace to come back if its media is up). Any other socket
// (a watcher of the talker's own) is none of the relay's business. A
// talker that left before its id was known (from its talk_ready or offer)
// ends the relay by not offering within Config.OfferTimeout (see Run).
func (r *Room) left(id string) error {
	if r.isTalker(id) {
		return r.talkerLeft()
	}
	r.mu.Lock()
	r.pending = slices.DeleteFunc(r.pending, func(p heldRequest) bool { return p.id == id })
	r.mu.Unlock()
	r.watchers.Left(id)
	return nil
}

// send sends msg; a failure is logged, the peer asks again.
func (r *Room) send(msg protocol.Typed) {
	if err := r.sig.Send(msg); err != nil {
		r.log.Debug("send", "type", msg.MessageType(), "err", err)
	}
}

// spawn runs f on a goroutine Run waits for, unless Run is ending; it
// reports whether f runs.
func (r *Room) spawn(f func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return false
	}
	r.wg.Go(f)
	return true
}

// shutdown drops every watcher, refuses those it held before the talker's
// tracks were in with talk_reject {reason: "full"} (the server handed
// their requests over and no longer answers them), closes the talker's
// PeerConnection and waits for the room's goroutines.
func (r *Room) shutdown() {
	r.mu.Lock()
	r.closing = true
	held := r.pending
	r.pending = nil
	pc := r.talker.pc
	r.mu.Unlock()
	r.watchers.DropAll()
	for _, h := range held {
		r.reject(h.id, protocol.RejectFull)
	}
	if pc != nil {
		_ = pc.Close()
	}
	r.stopTimers()
	close(r.done)
	r.wg.Wait()
}

// end ends Run with err, unless it is ending already.
func (r *Room) end(err error) {
	select {
	case r.ended <- err:
	default:
	}
}
