package protocol

// Message types: the `type` of a `message` event.
const (
	// TypeTalkRequest, watcher to talker (or to the room, before the
	// watcher knows its talker): TalkRequest.
	TypeTalkRequest = "talk_request"
	// TypeTalkReady, talker to the room (or to one watcher): TalkReady.
	TypeTalkReady = "talk_ready"
	// TypeTalkReject, talker to a watcher: TalkReject.
	TypeTalkReject = "talk_reject"
	// TypeOffer, talker to a watcher: Offer.
	TypeOffer = "offer"
	// TypeAnswer, watcher to its talker: Answer.
	TypeAnswer = "answer"
	// TypeCandidate, either way: Candidate.
	TypeCandidate = "candidate"
	// TypeBye, watcher to its talker: Bye.
	TypeBye = "bye"
	// TypeEndTalk, talker to the room: EndTalk.
	TypeEndTalk = "end_talk"
	// TypeStats, watcher to its talker: Stats.
	TypeStats = "stats"
	// TypeLayer, between a watcher and the room's relay, either way: Layer.
	TypeLayer = "layer"
)

// Types are all the message types, in the order above.
var Types = []string{
	TypeTalkRequest, TypeTalkReady, TypeTalkReject, TypeOffer, TypeAnswer,
	TypeCandidate, TypeBye, TypeEndTalk, TypeStats, TypeLayer,
}

// TalkerOnly reports whether only a room's talker may send messages of
// type typ: talk_ready, talk_reject, offer and end_talk.
func TalkerOnly(typ string) bool {
	switch typ {
	case TypeTalkReady, TypeTalkReject, TypeOffer, TypeEndTalk:
		return true
	}
	return false
}

// Head is what every message has: its type, the socket id it is sent to
// ("" or absent: the room, as far as the sender's role reaches) and, as
// heard, the socket id of its sender, stamped by the server (any `from` a
// sender writes is replaced). Relay, as heard, is true on every message
// the room's relay sent (RoleRelay), stamped by the server like From: any
// `relay` a sender writes is removed, so only the relay's messages carry it.
type Head struct {
	Type   string `json:"type"`
	Sendto string `json:"sendto,omitempty"`
	From   string `json:"from,omitempty"`
	Relay  bool   `json:"relay,omitempty"`
}

// MessageType returns the message's type.
func (h Head) MessageType() string { return h.Type }

// Typed is any message above, each of which has its Head.
type Typed interface{ MessageType() string }

// TalkRequest asks the talker for the stream: it answers with an Offer, a
// TalkReject, or, for a Resume it can take back, a TalkReady{Resumed}.
// Resume is the ice-ufrag (RFC 8839 §5.4) of the offer of a media session
// the watcher still has, after either end's socket came back under a new
// id. A repeated request is the same request.
//
// Offer, from a watcher that makes its own SDP offer (receive only: the
// server's WHEP players), is that offer: only the room's relay takes it,
// and answers with an Answer carrying every candidate of its own.
type TalkRequest struct {
	Head
	Resume string `json:"resume,omitempty"`
	Offer  string `json:"offer,omitempty"`
}

// TalkReady says the talker is on air; to the room, it invites watchers to
// send a TalkRequest. Resumed, to one watcher, says the talker took that
// watcher's media session back. Relayed, to the room, says the talker
// serves no watcher itself, only the room's relay (a WHIP publisher has
// one media connection): the server starts the relay at once and hands it
// every watcher, whatever its relay mode but off.
type TalkReady struct {
	Head
	Resumed bool `json:"resumed,omitempty"`
	Relayed bool `json:"relayed,omitempty"`
}

// TalkReject refuses a watcher. Reason is "full" (the talker has its
// maximum of watchers), "timeout" (no answer within OfferTimeout) or, from
// the relay, "dropped" (see RejectDropped).
//
// Position, with "full", is the watcher's place in the talker's queue (1
// is next) when the talker keeps one (talk.html does when the server runs
// no relay): the talker offers the watcher the stream when a place frees,
// in the order they asked, and tells the others their new places. 0 is no
// queue.
type TalkReject struct {
	Head
	Reason   string `json:"reason"`
	Position int    `json:"position,omitempty"`
}

// Reasons of a TalkReject.
const (
	RejectFull    = "full"
	RejectTimeout = "timeout"
	// RejectDropped: the relay ended the watcher's session it did not ask
	// to end (its answer was not taken, its media connection failed, or
	// the relay could not make its offer); the watcher may ask again.
	RejectDropped = "dropped"
)

// Offer is the talker's SDP offer to one watcher (send only). Repeated with
// the same ice-ufrag, it is the same offer. OnAirMs, if above 0, is how
// long the talker had been on air when it sent the offer, in ms: the
// watcher shows how long the broadcast has run (the relay's offers carry
// the talker's, moved on by the time since). NoTrickle says the offerer
// takes no trickled candidate: the answer carries every candidate of the
// answerer's, gathered before it is sent (WHIP and WHEP clients, per
// RFC 9725 §4.3.1, take the server's candidates from its answer alone).
type Offer struct {
	Head
	SDP       string `json:"sdp"`
	OnAirMs   int64  `json:"onAirMs,omitempty"`
	NoTrickle bool   `json:"noTrickle,omitempty"`
}

// Answer is the watcher's SDP answer to its talker's offer. Repeated, it is
// the same answer.
type Answer struct {
	Head
	SDP string `json:"sdp"`
}

// Candidate is a trickled ICE candidate, as RTCIceCandidateInit has it:
// the candidate line, and the media section it belongs to by its mid and
// index (either may be absent). A candidate heard before the remote
// description it belongs to is kept, up to MaxPendingCandidates.
type Candidate struct {
	Head
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
}

// Bye says the watcher stopped watching: the talker closes its peer.
type Bye struct {
	Head
}

// EndTalk says the talker went off air: its watchers' sessions end.
type EndTalk struct {
	Head
}

// Stats is a watcher's quality report to its talker, sent every
// ReportInterval while the media is up. The relay's stats to the talker
// are of three kinds, none of which anyone else's has (the server's relay
// stamp, Head.Relay, tells them):
//   - its count, every ReportInterval: RelayWatchers, how many watchers
//     the relay serves (a count of peers, 0 or more);
//   - a report of one of its watchers, passed on as it came: Watcher is
//     that watcher's socket id, Report its fields;
//   - a watcher's departure: Watcher, and Left true (no Report).
type Stats struct {
	Head
	Report
	RelayWatchers *int   `json:"relayWatchers,omitempty"`
	Watcher       string `json:"watcher,omitempty"`
	Left          bool   `json:"left,omitempty"`
}

// Report is the fields of a Stats message, as pages and the Go viewer fill
// them from their receiver statistics. A field the sender left out is nil.
type Report struct {
	// Bitrate is the inbound video bitrate since the previous report, in
	// bits/s.
	Bitrate *float64 `json:"bitrate,omitempty"`
	// FPS is the video frames decoded per second.
	FPS *float64 `json:"fps,omitempty"`
	// PacketsLost is the packets lost since the previous report.
	PacketsLost *float64 `json:"packetsLost,omitempty"`
	// Jitter is the video jitter, in seconds (RFC 3550 §6.4.1).
	Jitter *float64 `json:"jitter,omitempty"`
	// Freezes is the video freezes since the previous report.
	Freezes *float64 `json:"freezes,omitempty"`
	// RTT is the round-trip time of the selected candidate pair, in
	// seconds.
	RTT *float64 `json:"rtt,omitempty"`
}

// Layer is about the simulcast layer of a relay watcher's video (the
// talker's encodings of one picture at several sizes and bitrates, RFC
// 8853). From the watcher to the relay, Pin chooses: a layer's name
// (LayerLow, LayerMedium, LayerHigh) or LayerAuto, the relay choosing by
// the watcher's link. From the relay to the watcher, whenever the layer
// it forwards changes and in answer to a Pin: Layers, the names of the
// talker's layers, lowest first; Current, the one forwarded ("" while
// paused); Pin, the watcher's choice; Paused, true while the watcher's link
// does not carry the lowest layer: its video is paused, its audio goes on,
// and the relay tries the lowest layer again from time to time (its
// probes), so that the video comes back once the link carries it. The
// relay sends none without simulcast.
type Layer struct {
	Head
	Pin     string   `json:"pin,omitempty"`
	Layers  []string `json:"layers,omitempty"`
	Current string   `json:"current,omitempty"`
	Paused  bool     `json:"paused,omitempty"`
}

// Layer names: LayerAuto lets the relay choose; a talker's layers are
// named by their place, lowest first: low and high for two, low, medium
// and high for three.
const (
	LayerAuto   = "auto"
	LayerLow    = "low"
	LayerMedium = "medium"
	LayerHigh   = "high"
)

// LayerNames returns the names of n layers, lowest first: nil for n < 1,
// and LayerHigh for one.
func LayerNames(n int) []string {
	switch {
	case n < 1:
		return nil
	case n == 1:
		return []string{LayerHigh}
	case n == 2:
		return []string{LayerLow, LayerHigh}
	}
	names := make([]string, n)
	names[0], names[n-1] = LayerLow, LayerHigh
	for i := 1; i < n-1; i++ {
		names[i] = LayerMedium
	}
	return names
}

// Message is any message, or a `user disconnected` event, as a Go peer
// reads it: the fields of every type above in one struct, those the type
// does not have left zero.
type Message struct {
	Type          string  `json:"type"`
	From          string  `json:"from"`
	SDP           string  `json:"sdp"`
	Reason        string  `json:"reason"`
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex"`
	// ID is the socket id of a `user disconnected` event.
	ID      string `json:"id"`
	Resume  string `json:"resume"`
	Resumed bool   `json:"resumed"`
	// Offer is a talk_request's (see TalkRequest).
	Offer string `json:"offer"`
	// Relay is true on a message the room's relay sent (see Head.Relay).
	Relay bool `json:"relay"`
	// RelayWatchers is the relay's count of the watchers it serves, in
	// its stats to the talker; nil in any other message.
	RelayWatchers *int `json:"relayWatchers"`
	// Watcher and Left are the relay's, in its stats to the talker: the
	// socket id of the watcher whose report it passes on, or (Left) who
	// left the relay (see Stats).
	Watcher string `json:"watcher"`
	Left    bool   `json:"left"`
	// OnAirMs and NoTrickle are an offer's (see Offer).
	OnAirMs   int64 `json:"onAirMs"`
	NoTrickle bool  `json:"noTrickle"`
	// Position is a talk_reject's (see TalkReject).
	Position int `json:"position"`
	// Pin, Layers, Current and Paused are a layer message's (see Layer).
	Pin     string   `json:"pin"`
	Layers  []string `json:"layers"`
	Current string   `json:"current"`
	Paused  bool     `json:"paused"`
	// Report is a stats message's quality report; its fields are nil in
	// any other message, and where the sender left them out.
	Report
}
