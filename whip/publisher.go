package whip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/broadcast-service/broadcast/internal/local"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// errRelayLeft: the room's relay left, and the client's media connection
// with it.
var errRelayLeft = errors.New("the room's relay left: the media connection is gone")

// publisher is one WHIP session: the room's talker in the server's own
// process, whose media connection is the WHIP client's with the room's
// relay.
type publisher struct {
	id, room string
	token    string // the bearer token it was made with; PATCH and DELETE bring the same
	sess     *local.Session
	offer    string    // the client's SDP offer
	ufrag    string    // the offer's ice-ufrag
	onAir    time.Time // when it went on air: the POST
	log      *slog.Logger

	mu    sync.Mutex
	relay string // the room's relay's socket id, once it asked for the offer

	stop chan struct{} // closed by end: run sends end_talk and leaves
	once sync.Once
	gone chan struct{} // closed once run has left the room
}

// start goes on air, serving the relay alone, and returns the relay's
// answer to the offer: ErrNoRelay if no relay asks for it and answers
// within timeout, ErrUnacceptable if the relay leaves instead of
// answering (the offer did not do), or ctx's error.
func (p *publisher) start(ctx context.Context, timeout time.Duration) (string, error) {
	if err := p.sess.Send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady}, Relayed: true}); err != nil {
		return "", fmt.Errorf("%w: on air: %w", ErrNoRelay, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-t.C:
			return "", fmt.Errorf("%w: no answer within %v", ErrNoRelay, timeout)
		case ev, ok := <-p.sess.Events():
			if !ok {
				return "", fmt.Errorf("%w: the signaling dropped the session", ErrNoRelay)
			}
			sdp, err := p.heard(ev)
			if errors.Is(err, errRelayLeft) {
				return "", fmt.Errorf("%w: the room's relay left without taking the offer", ErrUnacceptable)
			}
			if sdp != "" || err != nil {
				return sdp, err
			}
		}
	}
}

// heard is one event of the session's in the room: a talk_request, from
// the relay (to which it offers) or a watcher (refused as full: the
// server hands it to the relay); the relay's answer, returned; the relay
// leaving, an error.
func (p *publisher) heard(ev session.Event) (answer string, err error) {
	switch e := ev.(type) {
	case session.Message:
		m := e.Message
		switch {
		case m.Type == protocol.TypeTalkRequest && m.Relay:
			return "", p.offerTo(m.From)
		case m.Type == protocol.TypeTalkRequest:
			p.send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: m.From}, Reason: protocol.RejectFull})
		case m.Type == protocol.TypeAnswer && m.From == p.relayID():
			return m.SDP, nil
		}
	case session.Left:
		if e.ID != "" && e.ID == p.relayID() {
			return "", errRelayLeft
		}
	case session.Refused:
		p.log.Log(context.Background(), e.Level(), "signaling error", "code", e.Code, "message", e.Message)
	}
	return "", nil
}

// offerTo sends the offer to the relay relay, which asks for it; it
// returns ErrNoRelay if a relay other than the one offered to asks (the
// room's relay restarted, and the client's media connection went with
// the old one).
func (p *publisher) offerTo(relay string) error {
	p.mu.Lock()
	if p.relay != "" && p.relay != relay {
		p.mu.Unlock()
		return fmt.Errorf("%w: the room's relay restarted", ErrNoRelay)
	}
	p.relay = relay
	p.mu.Unlock()
	// How long it has been on air, for the watchers' pages (at least 1 ms:
	// 0 says nothing).
	onAirMs := max(time.Since(p.onAir).Milliseconds(), 1)
	p.send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: relay}, SDP: p.offer, OnAirMs: onAirMs, NoTrickle: true})
	return nil
}

func (p *publisher) relayID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.relay
}

// send sends msg; a failure is logged: the relay asks again, or leaves.
func (p *publisher) send(msg protocol.Typed) {
	if err := p.sess.Send(msg); err != nil {
		p.log.Debug("send", "type", msg.MessageType(), "err", err)
	}
}

// run keeps the session in the room until end, the relay leaving, or the
// signaling dropping it; then it goes off air and leaves.
func (p *publisher) run() {
	defer close(p.gone)
	defer func() {
		p.send(protocol.EndTalk{Head: protocol.Head{Type: protocol.TypeEndTalk}})
		_ = p.sess.Close()
	}()
	for {
		select {
		case <-p.stop:
			p.log.Info("WHIP session ended", "why", "deleted")
			return
		case ev, ok := <-p.sess.Events():
			if !ok {
				p.log.Info("WHIP session ended", "why", "the signaling dropped it")
				return
			}
			if _, err := p.heard(ev); err != nil {
				p.log.Info("WHIP session ended", "why", err)
				return
			}
		}
	}
}

// trickle passes the client's candidates to the relay.
func (p *publisher) trickle(f fragment) error {
	relay := p.relayID()
	for _, c := range f.candidates {
		m := protocol.Candidate{Head: protocol.Head{Type: protocol.TypeCandidate, Sendto: relay}, Candidate: c.line, SDPMLineIndex: &c.index}
		if c.mid != "" {
			m.SDPMid = &c.mid
		}
		if err := p.sess.Send(m); err != nil {
			return err
		}
	}
	return nil
}

// end stops run, which goes off air and leaves; it waits for that.
func (p *publisher) end() {
	p.once.Do(func() { close(p.stop) })
	<-p.gone
}
