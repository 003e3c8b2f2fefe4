package whip

import (
	"fmt"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// publisher is a WHIP session's role: the room's talker, serving the
// room's relay alone (talk_ready {relayed: true}), which takes the
// client's offer as the talker's.
type publisher struct {
	onAir time.Time // when it went on air: the POST
}

// begin goes on air, serving the relay alone: the server starts it.
func (p *publisher) begin(s *resource) error {
	if err := s.sess.Send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady}, Relayed: true}); err != nil {
		return fmt.Errorf("%w: on air: %w", ErrNoRelay, err)
	}
	return nil
}

// heard: the relay's talk_request is answered with the client's offer
// (again when it asks again), a watcher's with talk_reject {reason:
// "full"} (the server hands the watcher to the relay); the relay's answer
// is returned.
func (p *publisher) heard(s *resource, ev session.Event) (string, error) {
	e, ok := ev.(session.Message)
	if !ok {
		return "", nil
	}
	m := e.Message
	switch {
	case m.Type == protocol.TypeTalkRequest && m.Relay:
		if err := s.setRelay(m.From); err != nil {
			return "", err
		}
		// How long it has been on air, for the watchers' pages (at least
		// 1 ms: 0 says nothing).
		onAirMs := max(time.Since(p.onAir).Milliseconds(), 1)
		return "", sendErr(s.sess.Send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: m.From}, SDP: s.offer, OnAirMs: onAirMs, NoTrickle: true}))
	case m.Type == protocol.TypeTalkRequest:
		s.send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: m.From}, Reason: protocol.RejectFull})
	case m.Type == protocol.TypeAnswer && m.From == s.relayID():
		return m.SDP, nil
	}
	return "", nil
}

// leave goes off air.
func (p *publisher) leave(s *resource) {
	s.send(protocol.EndTalk{Head: protocol.Head{Type: protocol.TypeEndTalk}})
}
