package media

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// Watcher is one light watcher (see the package documentation).
type Watcher struct {
	pool *Pool
	sess *session.Session

	requested time.Time     // the first talk_request; set before the loop starts
	live      chan struct{} // closed at the first frame
	ttff      atomic.Int64  // ns from requested to the first frame; 0 before
	relayed   atomic.Bool   // the offer came from the room's relay

	received, expected, frames atomic.Int64 // the video track's, see Counters

	done chan struct{} // closed when the loop ends
	err  error         // why the loop ended; read after done

	mu         sync.Mutex
	pc         *webrtc.PeerConnection
	from       string // the offer's sender: the talker, or the relay
	candidates rtc.EarlyCandidates
}

// Counters are what a watcher has counted of its video so far.
type Counters struct {
	// Received and Expected are RTP packets; Expected-Received were lost.
	Received, Expected int64
	// Frames is the packets with the marker bit set: frames ended.
	Frames int64
	// TTFF is the time to first frame, 0 before it.
	TTFF time.Duration
	// Relayed says the media came from the room's relay.
	Relayed bool
}

// Watch starts a watcher: it enters the room and asks for the media. It
// returns the session's error if the server cannot be reached or refuses.
// The watcher runs until Close, ctx's end or the talker leaving.
func (p *Pool) Watch(ctx context.Context) (*Watcher, error) {
	sess, _, err := session.Open(ctx, session.Config{
		Server: p.opts.Server, Logger: p.opts.Logger,
		Enter: protocol.EnterRequest{Room: p.opts.Room, Role: protocol.RoleWatcher},
	})
	if err != nil {
		return nil, err
	}
	w := &Watcher{pool: p, sess: sess, live: make(chan struct{}), done: make(chan struct{})}
	w.requested = time.Now()
	w.request("")
	go w.loop(ctx)
	return w, nil
}

// Live is closed at the watcher's first frame.
func (w *Watcher) Live() <-chan struct{} { return w.live }

// Done is closed when the watcher has stopped; Err then says why.
func (w *Watcher) Done() <-chan struct{} { return w.done }

// Err is why the watcher stopped (nil for Close or ctx's end); valid once
// Done is closed.
func (w *Watcher) Err() error {
	<-w.done
	return w.err
}

// WaitLive waits for the first frame until ctx ends, and returns the time
// to it, or an error wrapping ErrNotLive or why the watcher stopped.
func (w *Watcher) WaitLive(ctx context.Context) (time.Duration, error) {
	select {
	case <-w.live:
		return time.Duration(w.ttff.Load()), nil
	case <-w.done:
		return 0, fmt.Errorf("%w: %w", ErrNotLive, w.err)
	case <-ctx.Done():
		return 0, fmt.Errorf("%w: %w", ErrNotLive, ctx.Err())
	}
}

// Counters returns the video counted so far; safe at any time.
func (w *Watcher) Counters() Counters {
	return Counters{
		Received: w.received.Load(), Expected: w.expected.Load(), Frames: w.frames.Load(),
		TTFF: time.Duration(w.ttff.Load()), Relayed: w.relayed.Load(),
	}
}

// Close says bye and closes the media connection, and waits for the loop.
func (w *Watcher) Close() {
	_ = w.sess.Close()
	<-w.done
}

// loop handles the session's events until it closes or ctx ends, asking
// again every protocol.RetryInterval while no offer has come.
func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	defer w.closePC()
	retry := time.NewTicker(protocol.RetryInterval)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = w.sess.Close()
			return
		case <-retry.C:
			if w.peerConnection() == nil {
				w.request("")
			} else {
				retry.Stop()
			}
		case ev, ok := <-w.sess.Events():
			if !ok {
				return // closed: by Close, or lost
			}
			if err := w.event(ev); err != nil {
				w.err = err
				_ = w.sess.Close()
				return
			}
		}
	}
}

func (w *Watcher) event(ev session.Event) error {
	switch e := ev.(type) {
	case session.Message:
		return w.message(e.Message)
	case session.Left:
		if w.pcFrom() == e.ID {
			return ErrEnded
		}
	}
	return nil
}

func (w *Watcher) message(m protocol.Message) error {
	switch m.Type {
	case protocol.TypeOffer:
		return w.answer(m)
	case protocol.TypeCandidate:
		w.candidates.Add(m.From, rtc.ICECandidate(m))
	case protocol.TypeTalkReady:
		if w.peerConnection() == nil {
			w.request(m.From)
		}
	case protocol.TypeTalkReject:
		return fmt.Errorf("%w: %s", ErrRejected, m.Reason)
	case protocol.TypeEndTalk:
		return ErrEnded
	}
	return nil
}

func (w *Watcher) request(to string) {
	_ = w.sess.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: to}})
}

// answer takes an offer: a PeerConnection, a reader per track, the answer
// and trickled candidates back. A second offer (a repeat) is ignored.
func (w *Watcher) answer(m protocol.Message) error {
	if w.peerConnection() != nil {
		return nil
	}
	pc, err := w.pool.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("peer connection: %w", err)
	}
	w.mu.Lock()
	w.pc, w.from = pc, m.From
	w.mu.Unlock()
	w.relayed.Store(m.Relay)
	from := m.From
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			_ = w.sess.Send(rtc.CandidateMessage(c, from))
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			w.readVideo(t)
			return
		}
		buf := make([]byte, 1500)
		for {
			if _, _, err := t.Read(buf); err != nil {
				return
			}
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
		return fmt.Errorf("set remote description: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err == nil {
		err = pc.SetLocalDescription(answer)
	}
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	_ = w.sess.Send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: from}, SDP: answer.SDP})
	w.candidates.Ready(pc, from)
	return nil
}

func (w *Watcher) peerConnection() *webrtc.PeerConnection {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pc
}

// pcFrom is the socket id the media came from, "" before the offer.
func (w *Watcher) pcFrom() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.from
}

func (w *Watcher) closePC() {
	if pc := w.peerConnection(); pc != nil {
		if err := pc.Close(); err != nil && !errors.Is(err, webrtc.ErrConnectionClosed) {
			w.pool.opts.Logger.Debug("close", "err", err)
		}
	}
}
