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
	return sendErr(s.sess.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}, Offer: s.offer}))
}

// heard: the relay's answer is returned; a talk_reject ends the session
// (ErrFull when full), as the talker's end_talk does. The talker's socket
// leaving or coming back is not the player's business: the relay keeps
// the talker's media for its resume, and ends (and leaves, which ends the
// session: resource.heard) if the talker does not come back.
func (player) heard(s *resource, ev session.Event) (string, error) {
	e, ok := ev.(session.Message)
	if !ok {
		return "", nil
	}
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
	}
	return "", nil
}

// leave says bye to the relay.
func (player) leave(s *resource) {
	if relay := s.relayID(); relay != "" {
		s.send(protocol.Bye{Head: protocol.Head{Type: protocol.TypeBye, Sendto: relay}})
	}
}
