package whip

import (
	"fmt"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// player is a WHEP session's role: a watcher of the room that makes its
// own offer (talk_request {offer}), which the server hands to the room's
// relay, starting it if the room has none; the relay answers it as it
// serves watch.html, counted in its cap.
type player struct{}

// begin asks for the stream with the client's offer.
func (player) begin(s *resource) error {
	if err := s.sess.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}, Offer: s.offer}); err != nil {
		return fmt.Errorf("%w: %w", ErrNoRelay, err)
	}
	return nil
}

// heard: the relay's answer is returned; a talk_reject ends the session
// (ErrFull when full); the talker going off air or leaving ends it.
func (player) heard(s *resource, ev session.Event) (string, error) {
	switch e := ev.(type) {
	case session.Message:
		m := e.Message
		switch m.Type {
		case protocol.TypeAnswer:
			if err := s.setRelay(m.From); err != nil {
				return "", err
			}
			return m.SDP, nil
		case protocol.TypeTalkReject:
			if m.Reason == protocol.RejectFull {
				return "", fmt.Errorf("%w: the room's relay serves its most watchers", ErrFull)
			}
			return "", fmt.Errorf("%w: refused (%s)", ErrNoRelay, m.Reason)
		case protocol.TypeEndTalk:
			return "", fmt.Errorf("%w: the broadcaster went off air", ErrNotOnAir)
		case protocol.TypeTalkReady:
			if m.From != s.relayID() && s.relayID() != "" && !m.Resumed {
				// The talker back on air (a new session): this one's
				// media went with the old.
				return "", fmt.Errorf("%w: the broadcaster went on air again", ErrNotOnAir)
			}
		}
	case session.Left:
		// The talker leaving (`user disconnected` reaches a watcher for
		// its talker alone; the relay's is the session's).
		return "", fmt.Errorf("%w: the broadcaster left", ErrNotOnAir)
	}
	return "", nil
}

// leave says bye to the relay.
func (player) leave(s *resource) {
	if relay := s.relayID(); relay != "" {
		s.send(protocol.Bye{Head: protocol.Head{Type: protocol.TypeBye, Sendto: relay}})
	}
}
