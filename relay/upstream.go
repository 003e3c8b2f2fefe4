package relay

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/codec"
)

// DefaultBufferPackets is the number of an upstream track's latest packets
// kept to answer NACKs when UpstreamConfig.BufferPackets is 0: about 2 s of
// 2.5 Mbit/s video, up to 1.5 MB per track whatever the number of watchers,
// each slot's room taken when its first packet comes.
const DefaultBufferPackets = 512

// keyframeCodecs are the video codecs whose keyframes codec.KeyframePacket
// finds in an RTP payload.
var keyframeCodecs = []string{webrtc.MimeTypeVP8, webrtc.MimeTypeVP9, webrtc.MimeTypeH264}

// UpstreamConfig describes a talker's track.
type UpstreamConfig struct {
	// MimeType is the track's media type: "video/VP8", "video/VP9",
	// "video/H264" or any "audio/..." such as "audio/opus" (compared
	// case-insensitively).
	MimeType string
	// ClockRate is the rate of the track's RTP timestamps, in Hz: 90000 for
	// video, 48000 for Opus.
	ClockRate uint32
	// BufferPackets is the number of latest packets kept for NACKs, a power
	// of two from 16 to 32768; 0 for DefaultBufferPackets.
	BufferPackets int
	// KeyframeInterval is the least time between two calls of
	// RequestKeyframe; 0 for DefaultKeyframeInterval.
	KeyframeInterval time.Duration
	// RequestKeyframe asks the talker for a keyframe (a PLI for the track's
	// SSRC). It is called from whichever goroutine asks: Write's, Add's or
	// a watcher's HandleRTCP, never twice within KeyframeInterval, and must
	// not block. Nil asks nothing (audio never asks).
	RequestKeyframe func()
	// GOPCacheBytes, if above 0, has a video track keep its current group
	// of pictures (the latest keyframe and every packet since, in the
	// buffer of BufferPackets) while its payload bytes are at most this:
	// a watcher attached for the first time is sent it at once, and then
	// the live packets, rather than waiting for a keyframe. 0 keeps none.
	GOPCacheBytes int
	// Now is the clock; nil for time.Now.
	Now func() time.Time
}

// UpstreamCounters are an Upstream's running totals, read with Load by a
// metrics layer at any time.
type UpstreamCounters struct {
	// Packets and Bytes (payload bytes) stored and fanned out.
	Packets, Bytes atomic.Uint64
	// Duplicates: packets whose sequence number is already stored.
	Duplicates atomic.Uint64
	// TooOld: packets older than the oldest the buffer holds.
	TooOld atomic.Uint64
	// Invalid: writes that were no RTP packet.
	Invalid atomic.Uint64
	// KeyframeRequests: calls of RequestKeyframe, one for any number of
	// requests merged.
	KeyframeRequests atomic.Uint64
	// GOPReplays: watchers started from the cached group of pictures, and
	// GOPReplayPackets the packets sent them so.
	GOPReplays, GOPReplayPackets atomic.Uint64
}

// reference ties an RTP timestamp of the upstream track to a wall-clock
// time, NTP format (RFC 3550 §4): at is when it was learnt.
type reference struct {
	ntp uint64
	rtp uint32
	at  time.Time
}

// Upstream is one talker's track relayed to watchers: it reads each packet
// once, keeps it in a buffer shared by all its watchers for their NACKs,
// and hands it to each Downstream attached, which rewrites it for its
// watcher. It merges its watchers' keyframe requests.
//
// Write and WriteRTP are meant for the one goroutine reading the talker's
// track; every method is safe for concurrent use.
type Upstream struct {
	mime            string
	video           bool // a watcher starts on a keyframe
	clockRate       uint32
	now             func() time.Time
	requestKeyframe func()
	throttle        keyframeThrottle
	buf             *packetBuffer

	// downs is the fan-out list, copied on Add and Remove under mu, read
	// without a lock by the writer.
	mu    sync.Mutex
	downs atomic.Pointer[[]*Downstream]

	// The writer's state.
	writeMu sync.Mutex
	highest uint64 // extended sequence number of the highest packet; 0 before the first
	scratch []byte // WriteRTP's marshalled packet
	// sent is the abs-send-time of the packets going out now (the one
	// fanned out, or a replay), once for all watchers that stamp it.
	sent [3]byte
	gop  gopCache

	// The timing a watcher's sender report is built from.
	refMu  sync.Mutex
	ssrc   uint32
	seen   bool      // a packet came: ssrc and last are set
	last   reference // the highest packet's timestamp and arrival
	sr     reference // the talker's latest sender report
	haveSR bool

	// Counters are the running totals.
	Counters UpstreamCounters
}

// NewUpstream returns an Upstream for a talker's track, with no watcher.
// It returns ErrUnsupportedCodec for a media type it cannot forward and
// ErrBadConfig for a clock rate of 0 or a buffer size that is not a power
// of two from 16 to 32768.
func NewUpstream(cfg UpstreamConfig) (*Upstream, error) {
	video := slices.ContainsFunc(keyframeCodecs, func(m string) bool { return strings.EqualFold(m, cfg.MimeType) })
	if !video && !strings.HasPrefix(strings.ToLower(cfg.MimeType), "audio/") {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedCodec, cfg.MimeType)
	}
	if cfg.ClockRate == 0 {
		return nil, fmt.Errorf("%w: clock rate 0", ErrBadConfig)
	}
	size := cfg.BufferPackets
	if size == 0 {
		size = DefaultBufferPackets
	}
	if size < 16 || size > 1<<15 || size&(size-1) != 0 {
		return nil, fmt.Errorf("%w: buffer of %d packets", ErrBadConfig, cfg.BufferPackets)
	}
	interval := cfg.KeyframeInterval
	if interval <= 0 {
		interval = DefaultKeyframeInterval
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	u := &Upstream{
		mime: cfg.MimeType, video: video, clockRate: cfg.ClockRate, now: now,
		requestKeyframe: cfg.RequestKeyframe,
		throttle:        keyframeThrottle{interval: interval},
		buf:             newPacketBuffer(size),
		gop:             gopCache{limit: cfg.GOPCacheBytes},
	}
	u.downs.Store(&[]*Downstream{})
	return u, nil
}

// Video reports whether the track is video, whose watchers start on a
// keyframe.
func (u *Upstream) Video() bool { return u.video }

// Watchers returns the number of Downstreams attached.
func (u *Upstream) Watchers() int { return len(*u.downs.Load()) }

// Add attaches d, taking it from the Upstream it was attached to if any:
// d waits for its first packet (a keyframe's first, for video), from
// which its sequence numbers and timestamps continue those it has sent.
// For video it asks the talker for a keyframe, unless d never started and
// the track caches its group of pictures (GOPCacheBytes): then d is sent
// the cached packets at once, before Add returns, and the live ones after.
// Adding d again restarts it the same way, keyframe first.
func (u *Upstream) Add(d *Downstream) {
	prev, next := d.attach(u)
	for _, o := range []*Upstream{prev, next} {
		if o != nil && o != u {
			o.drop(d)
		}
	}
	replayed := false
	if u.video && u.gop.limit > 0 {
		// The writer's lock: no packet goes between the replay and the
		// live ones.
		u.writeMu.Lock()
		replayed = u.replay(d)
		u.list(d)
		u.writeMu.Unlock()
	} else {
		u.list(d)
	}
	if !replayed {
		u.RequestKeyframe()
	}
}

// list puts d on the fan-out list.
func (u *Upstream) list(d *Downstream) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if list := *u.downs.Load(); !slices.Contains(list, d) {
		next := append(slices.Clip(list), d)
		u.downs.Store(&next)
	}
}

// Remove detaches d, which then forwards nothing and answers no NACK
// until added again.
func (u *Upstream) Remove(d *Downstream) {
	d.detach(u)
	u.drop(d)
}

// drop takes d off the fan-out list.
func (u *Upstream) drop(d *Downstream) {
	u.mu.Lock()
	defer u.mu.Unlock()
	list := *u.downs.Load()
	if i := slices.Index(list, d); i >= 0 {
		next := slices.Delete(slices.Clone(list), i, i+1)
		u.downs.Store(&next)
	}
}

// RequestKeyframe asks the talker for a keyframe, unless one was asked
// less than KeyframeInterval ago: requests within the interval are merged
// into that one. It does nothing for audio.
func (u *Upstream) RequestKeyframe() {
	if !u.video || u.requestKeyframe == nil || !u.throttle.allow(u.now()) {
		return
	}
	u.Counters.KeyframeRequests.Add(1)
	u.requestKeyframe()
}

// Write takes one RTP packet of the talker's track (header, payload and
// padding, as pion's TrackRemote.Read gives it), stores a copy in the
// shared buffer and forwards it to every watcher attached. raw may be
// reused once Write returns. A packet already stored, or older than the
// buffer's oldest, is dropped. It returns ErrBadPacket for bytes that are
// not an RTP version 2 packet.
//
// Each watcher's writer is called in turn from this goroutine: one that
// blocks holds up the others (see the package documentation).
func (u *Upstream) Write(raw []byte) error {
	u.writeMu.Lock()
	defer u.writeMu.Unlock()
	return u.write(raw)
}

// WriteRTP is Write for a parsed packet. pkt is not kept.
func (u *Upstream) WriteRTP(pkt *rtp.Packet) error {
	u.writeMu.Lock()
	defer u.writeMu.Unlock()
	u.scratch = slices.Grow(u.scratch[:0], pkt.MarshalSize())[:pkt.MarshalSize()]
	n, err := pkt.MarshalTo(u.scratch)
	if err != nil {
		u.Counters.Invalid.Add(1)
		return fmt.Errorf("%w: %w", ErrBadPacket, err)
	}
	return u.write(u.scratch[:n])
}

// write is Write with writeMu held.
func (u *Upstream) write(raw []byte) error {
	if len(raw) < 12 || raw[0]>>6 != 2 {
		u.Counters.Invalid.Add(1)
		return fmt.Errorf("%w: %d bytes, version %d", ErrBadPacket, len(raw), raw[0]>>6)
	}
	seq := binary.BigEndian.Uint16(raw[2:])
	ext := firstExt + uint64(seq)
	if u.highest != 0 {
		ext = unwrapSeq(seq, u.highest)
		if ext+uint64(len(u.buf.slots)) <= u.highest {
			u.Counters.TooOld.Add(1)
			return nil
		}
		if u.buf.has(ext) {
			u.Counters.Duplicates.Add(1)
			return nil
		}
	}
	at := u.now()
	absSendTime(time.Now(), &u.sent)
	s, err := u.buf.store(ext, raw, at)
	if err != nil {
		u.Counters.Invalid.Add(1)
		return fmt.Errorf("%w: %w", ErrBadPacket, err)
	}
	s.key = u.video && codec.KeyframePacket(u.mime, s.pkt.Payload)
	if ext > u.highest {
		u.highest = ext
		u.refMu.Lock()
		u.ssrc, u.seen = s.pkt.SSRC, true
		u.last = reference{ntp: ntpTime(at), rtp: s.pkt.Timestamp, at: at}
		u.refMu.Unlock()
	}
	u.Counters.Packets.Add(1)
	u.Counters.Bytes.Add(uint64(len(s.pkt.Payload)))
	if u.gop.limit > 0 {
		u.keep(s)
	}
	waiting := false
	for _, d := range *u.downs.Load() {
		if d.forward(u, s) {
			waiting = true
		}
	}
	if waiting {
		u.RequestKeyframe()
	}
	return nil
}

// HandleSenderReport takes the talker's sender report for the track,
// whose mapping of RTP timestamps to wall-clock time the watchers' sender
// reports carry on. It reports false, ignoring sr, when sr is for another
// SSRC than the track's packets.
func (u *Upstream) HandleSenderReport(sr *rtcp.SenderReport) bool {
	u.refMu.Lock()
	defer u.refMu.Unlock()
	if u.seen && sr.SSRC != u.ssrc {
		return false
	}
	u.sr, u.haveSR = reference{ntp: sr.NTPTime, rtp: sr.RTPTime, at: u.now()}, true
	return true
}

// reference returns the talker's latest sender report, or before the
// first one the highest packet's timestamp and arrival; false before any
// packet or report.
func (u *Upstream) reference() (reference, bool) {
	u.refMu.Lock()
	defer u.refMu.Unlock()
	if u.haveSR {
		return u.sr, true
	}
	return u.last, u.seen
}
