package relay

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Writer sends a watcher one RTP packet: pion's webrtc.TrackLocalWriter,
// as TrackLocal's Bind gives it. It must not keep header or payload once
// it returns, and should not block (see the package documentation).
type Writer interface {
	WriteRTP(header *rtp.Header, payload []byte) (int, error)
}

// DownstreamConfig is what a watcher's PeerConnection negotiated for the
// track, as TrackLocalContext gives it in TrackLocal's Bind.
type DownstreamConfig struct {
	// SSRC of the watcher's stream (TrackLocalContext.SSRC).
	SSRC uint32
	// PayloadType negotiated for the codec, 0 to 127.
	PayloadType uint8
	// Writer sends the watcher's packets (TrackLocalContext.WriteStream).
	Writer Writer
	// AbsSendTimeID is the ID the watcher negotiated for the abs-send-time
	// header extension (webrtc.org's http://www.webrtc.org/experiments/
	// rtp-hdrext/abs-send-time), 1 to 14; 0 for none. Each packet then
	// carries the time it left the relay, from which the watcher's
	// receive-side bandwidth estimator times its arrivals (its REMB);
	// without it, a browser falls back to the packets' RTP timestamps,
	// which a relay's switches and replays make a poor clock.
	AbsSendTimeID uint8
}

// State is where a Downstream is in forwarding its track.
type State uint8

const (
	// Idle: attached to no Upstream (new, or removed).
	Idle State = iota
	// Waiting: attached, waiting for the packet to start from: the first
	// packet of a keyframe for video, any packet for audio. It drops what
	// comes before.
	Waiting
	// Forwarding: forwarding every packet from the one it started on.
	Forwarding
)

func (s State) String() string {
	switch s {
	case Idle:
		return "idle"
	case Waiting:
		return "waiting"
	case Forwarding:
		return "forwarding"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// DownstreamCounters are a Downstream's running totals, read with Load by
// a metrics layer at any time.
type DownstreamCounters struct {
	// Packets and Bytes (payload bytes) forwarded, retransmissions not
	// counted.
	Packets, Bytes atomic.Uint64
	// Starts: times the watcher started (or restarted) its stream, for
	// video each on a keyframe.
	Starts atomic.Uint64
	// DroppedWaiting: packets not forwarded as they came while waiting to
	// start (those of the start frame among them go out when it starts).
	DroppedWaiting atomic.Uint64
	// DroppedLate: packets that came late, after the watcher started on a
	// later one.
	DroppedLate atomic.Uint64
	// DroppedHeld: packets of the current layer not forwarded while a
	// switch started by SwitchNow waits for its keyframe.
	DroppedHeld atomic.Uint64
	// NACKsServed: packets the watcher asked for again and was sent from
	// the shared buffer; NACKsMissed: those that were no longer there,
	// never sent to it, or asked while not forwarding.
	NACKsServed, NACKsMissed atomic.Uint64
	// KeyframeRequests: PLIs and FIRs from the watcher, for its SSRC.
	KeyframeRequests atomic.Uint64
	// WriteErrors: packets the writer refused.
	WriteErrors atomic.Uint64
}

// Downstream is one watcher's copy of one upstream track: it rewrites
// each forwarded packet's SSRC and payload type to the watcher's, and
// maps its sequence number and timestamp through offsets, set when it
// starts so that its sequence continues across a restart or a change of
// Upstream. Offsets, not counters: a reordered packet keeps its place.
//
// Every method is safe for concurrent use.
type Downstream struct {
	ssrc  uint32
	pt    uint8
	w     Writer
	absID uint8 // DownstreamConfig.AbsSendTimeID

	mu    sync.Mutex
	up    *Upstream
	next  *Upstream // a switch pending (Switch): started on at its first keyframe
	hold  bool      // the switch pending stops the current Upstream at once (SwitchNow); never set without next
	state State
	begun bool // a packet was forwarded: a restart continues the sequence

	// The mapping of the current start: an upstream packet of extended
	// sequence number e goes out as e-seqOffset, its timestamp t as
	// t+tsOffset (both wrapping as 16 and 32 bits on the wire).
	seqOffset int64
	tsOffset  uint32
	startOut  uint64 // the extended outgoing number of the start packet
	startTS   uint32 // the upstream timestamp of the start packet
	floorOut  uint64 // the highest outgoing number sent before the start; 0 for none
	highOut   uint64 // the highest extended outgoing number sent
	lastTS    uint32 // the outgoing timestamp of highOut
	lastAt    time.Time
	// A start on a replayed group of pictures (Upstream.replay): packets
	// up to replayHigh (outgoing; 0 for no replay) have their timestamps
	// drawn toward replayTS, the upstream timestamp of the last frame
	// replayed, gopReplaySpeed times (see gopReplayTS).
	replayHigh uint64
	replayTS   uint32
	askedAt    time.Time // the watcher's last keyframe request passed on

	// Scratch, under mu: the header handed to the writer and room for the
	// extensions the writer's interceptors set.
	hdr  rtp.Header
	exts []rtp.Extension

	// HandleNACK's, under nackMu (taken before mu): the packets to send
	// again, copied out of the shared buffer under mu and written after,
	// their header, and the watcher's retransmission budget.
	nackMu  sync.Mutex
	rtx     []rtxPacket
	rtxHdr  rtp.Header
	rtxExts []rtp.Extension
	rtxAbs  [3]byte
	limit   rtxLimit

	// Counters are the running totals.
	Counters DownstreamCounters
}

// NewDownstream returns an idle Downstream; Upstream.Add starts it. It
// returns ErrBadConfig for a nil Writer or a payload type above 127.
func NewDownstream(cfg DownstreamConfig) (*Downstream, error) {
	if cfg.Writer == nil {
		return nil, fmt.Errorf("%w: no writer", ErrBadConfig)
	}
	if cfg.PayloadType > 127 {
		return nil, fmt.Errorf("%w: payload type %d", ErrBadConfig, cfg.PayloadType)
	}
	if cfg.AbsSendTimeID > 14 {
		return nil, fmt.Errorf("%w: abs-send-time extension ID %d", ErrBadConfig, cfg.AbsSendTimeID)
	}
	return &Downstream{ssrc: cfg.SSRC, pt: cfg.PayloadType, w: cfg.Writer, absID: cfg.AbsSendTimeID}, nil
}

// SSRC returns the watcher's SSRC.
func (d *Downstream) SSRC() uint32 { return d.ssrc }

// State returns where the Downstream is.
func (d *Downstream) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// attach makes u the Downstream's upstream and sets it waiting, ending
// any switch pending; it returns the previous upstream and the one it was
// switching to.
func (d *Downstream) attach(u *Upstream) (prev, next *Upstream) {
	d.mu.Lock()
	defer d.mu.Unlock()
	prev, next = d.up, d.next
	d.up, d.next, d.hold, d.state = u, nil, false, Waiting
	return prev, next
}

// detach makes the Downstream idle if u is its upstream, and ends its
// switch to u if one is pending.
func (d *Downstream) detach(u *Upstream) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.up == u {
		d.up, d.state = nil, Idle
	}
	if d.next == u {
		d.next, d.hold = nil, false
	}
}

// Switch moves d to the Upstream to, another simulcast layer of its track,
// at to's next keyframe: d goes on forwarding its current Upstream until
// the first packet of a keyframe of to comes, and starts on it there, its
// sequence numbers and timestamps continuing those it sent (as a restart's
// do: the next number, and the time between the two packets). It asks
// to's talker for a keyframe, again while it waits (merged with every
// other request by to's throttle). A d that is not forwarding is added to
// to at once (Add); switching to d's current Upstream ends a switch
// pending, and a later Switch replaces an earlier one.
func (d *Downstream) Switch(to *Upstream) { d.switchTo(to, false) }

// SwitchNow is Switch for a link too narrow for the current Upstream: d
// stops forwarding it at once, rather than until to's keyframe, whose
// packets its packets would crowd out or see lost. The picture holds
// still until then.
func (d *Downstream) SwitchNow(to *Upstream) { d.switchTo(to, true) }

// switchTo is Switch, or with hold SwitchNow.
func (d *Downstream) switchTo(to *Upstream, hold bool) {
	d.mu.Lock()
	cur, pending, forwarding := d.up, d.next, d.state == Forwarding
	switch {
	case cur == to:
		d.next, d.hold = nil, false
	case forwarding:
		d.next, d.hold = to, hold
	}
	d.mu.Unlock()
	if pending != nil && pending != to {
		pending.drop(d)
	}
	switch {
	case cur == to:
	case !forwarding:
		to.Add(d)
	default:
		to.list(d)
		to.RequestKeyframe()
	}
}

// Detach takes d off its Upstream and off the one it is switching to, if
// any: it forwards nothing until added again (a watcher whose video is
// paused).
func (d *Downstream) Detach() {
	d.mu.Lock()
	cur, next := d.up, d.next
	d.mu.Unlock()
	for _, u := range []*Upstream{cur, next} {
		if u != nil {
			u.Remove(d)
		}
	}
}

// Upstream returns the Upstream d forwards, or nil.
func (d *Downstream) Upstream() *Upstream {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.up
}

// forward sends the watcher the packet in s if it is to have it, and
// reports whether the Downstream waits for a keyframe. Called by u's
// writer, which owns the buffer's slots.
func (d *Downstream) forward(u *Upstream, s *slot) (waiting bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.up == u && d.hold {
		d.Counters.DroppedHeld.Add(1)
		return false
	}
	if d.up != u {
		if d.next != u {
			return false
		}
		if !s.key {
			return true
		}
		// The switch: the keyframe of the layer switched to came. d
		// leaves the previous layer's list (its lock is taken under d.mu
		// only here, and is held by nothing that takes d.mu).
		if prev := d.up; prev != nil {
			defer prev.drop(d)
		}
		d.up, d.next, d.hold, d.state = u, nil, false, Waiting
	}
	switch d.state {
	case Waiting:
		if u.video && !s.key {
			d.Counters.DroppedWaiting.Add(1)
			return true
		}
		// Packets of the start frame before its keyframe packet that came
		// while waiting (an H.264 access unit's delimiter or SEI) go first.
		for range len(u.buf.slots) - 1 {
			prev := u.buf.slot(s.ext - 1)
			if prev.ext != s.ext-1 || prev.pkt.Timestamp != s.pkt.Timestamp {
				break
			}
			s = prev
		}
		d.start(u, s)
		d.send(s.ext, &s.pkt, s.at)
		// Packets after the start packet that came before it (the rest of
		// a keyframe reordered ahead of its first packet).
		for e := s.ext + 1; e <= u.highest; e++ {
			if next := u.buf.slot(e); next.ext == e {
				d.send(e, &next.pkt, next.at)
			}
		}
	case Forwarding:
		if s.ext < d.startIn() {
			// A packet of the start frame that came after the start packet
			// goes out if its number was never used: on a first start.
			out := d.outExt(s.ext)
			if out <= d.floorOut || s.pkt.Timestamp != d.startTS {
				d.Counters.DroppedLate.Add(1)
				return false
			}
			d.startOut = out
		}
		d.send(s.ext, &s.pkt, s.at)
	}
	return false
}

// start sets the offsets for the start packet s: the watcher's first
// packet keeps the upstream's numbers; after a restart the packet follows
// the last one sent, its timestamp advanced by the time between their
// arrivals (at least one tick).
func (d *Downstream) start(u *Upstream, s *slot) {
	if d.begun {
		next := d.highOut + 1
		d.seqOffset = int64(s.ext) - int64(next)
		gap := max(ticks(s.at.Sub(d.lastAt), u.clockRate), 1)
		d.tsOffset = d.lastTS + uint32(gap) - s.pkt.Timestamp
	} else {
		d.seqOffset, d.tsOffset, d.begun = 0, 0, true
	}
	d.startOut = d.outExt(s.ext)
	d.floorOut, d.highOut = d.highOut, d.startOut-1
	d.startTS = s.pkt.Timestamp
	d.replayHigh = 0
	d.state = Forwarding
	d.Counters.Starts.Add(1)
}

// startIn returns the upstream's extended number of the start packet.
func (d *Downstream) startIn() uint64 { return uint64(int64(d.startOut) + d.seqOffset) }

// outExt maps an upstream extended sequence number to the watcher's.
func (d *Downstream) outExt(in uint64) uint64 { return uint64(int64(in) - d.seqOffset) }

// send writes the upstream packet pkt of extended number in, which
// arrived at at, rewritten for the watcher. The header is the
// Downstream's own (the writer's interceptors may set extensions in it);
// the payload is the shared buffer's.
func (d *Downstream) send(in uint64, pkt *rtp.Packet, at time.Time) {
	out := d.outExt(in)
	ts, ok := d.write(out, pkt)
	if out > d.highOut {
		d.highOut, d.lastTS, d.lastAt = out, ts, at
	}
	if ok {
		d.Counters.Packets.Add(1)
		d.Counters.Bytes.Add(uint64(len(pkt.Payload)))
	}
}

// write writes pkt as the watcher's packet of extended number out and
// returns the timestamp it carried and whether the writer took it.
// outTS is the outgoing timestamp of the packet sent as out with upstream
// timestamp ts: through the offset, and drawn toward the last replayed
// frame's for a packet of a replayed group of pictures. Called with mu
// held.
func (d *Downstream) outTS(out uint64, ts uint32) uint32 {
	if out <= d.replayHigh && out >= d.startOut {
		return gopReplayTS(ts, d.replayTS) + d.tsOffset
	}
	return ts + d.tsOffset
}

func (d *Downstream) write(out uint64, pkt *rtp.Packet) (uint32, bool) {
	h := &d.hdr
	*h = pkt.Header
	// The talker's header extensions go no further: their IDs are those
	// negotiated with the talker, not the watcher, whose own interceptors
	// add theirs (transport-wide sequence numbers) to this header.
	h.Extension, h.ExtensionProfile, h.Extensions = false, 0, d.exts[:0]
	h.SSRC, h.PayloadType = d.ssrc, d.pt
	h.SequenceNumber = uint16(out)
	h.Timestamp = d.outTS(out, pkt.Timestamp)
	d.stampSendTime(h, &d.up.sent)
	_, err := d.w.WriteRTP(h, pkt.Payload)
	d.exts = h.Extensions[:0]
	if err != nil {
		d.Counters.WriteErrors.Add(1)
		return h.Timestamp, false
	}
	return h.Timestamp, true
}

// stampSendTime sets h's abs-send-time extension, if the watcher
// negotiated one, to sent (absSendTime's).
func (d *Downstream) stampSendTime(h *rtp.Header, sent *[3]byte) {
	if d.absID != 0 {
		_ = h.SetExtension(d.absID, sent[:]) // an ID of 1 to 14 and 3 bytes: a one-byte extension
	}
}

// absSendTime puts t in buf as abs-send-time has it: 24 bits of seconds
// in 6.18 fixed point (the middle of an NTP timestamp).
func absSendTime(t time.Time, buf *[3]byte) {
	v := ntpTime(t) >> 14
	buf[0], buf[1], buf[2] = byte(v>>16), byte(v>>8), byte(v)
}

// ticks converts a duration to RTP timestamp ticks at rate Hz.
func ticks(dt time.Duration, rate uint32) int64 {
	return int64(dt/time.Second)*int64(rate) + int64(dt%time.Second)*int64(rate)/int64(time.Second)
}
