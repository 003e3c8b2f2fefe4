package relay

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// sent is a packet a fakeWriter was given, copied.
type sent struct {
	hdr     rtp.Header
	payload []byte
}

// fakeWriter records what a Downstream writes.
type fakeWriter struct {
	mu   sync.Mutex
	got  []sent
	fail bool
}

var errWriter = errors.New("writer refused")

func (w *fakeWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail {
		return 0, errWriter
	}
	c := *h
	c.Extensions = slices.Clone(h.Extensions)
	w.got = append(w.got, sent{c, slices.Clone(payload)})
	return h.MarshalSize() + len(payload), nil
}

// packets returns what was written so far and forgets it.
func (w *fakeWriter) take() []sent {
	w.mu.Lock()
	defer w.mu.Unlock()
	got := w.got
	w.got = nil
	return got
}

// discard is a Writer that keeps nothing, for benchmarks.
type discard struct{}

func (discard) WriteRTP(h *rtp.Header, payload []byte) (int, error) { return len(payload), nil }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// VP8 payloads: a keyframe's first packet, an interframe's first packet,
// and a packet continuing either (RFC 7741 §4.2).
var (
	vp8KeyPayload   = []byte{0x10, 0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x41, 0xf0, 0x00, 0xaa}
	vp8InterPayload = []byte{0x10, 0x51, 0x42, 0x00, 0xbb}
	vp8ContPayload  = []byte{0x00, 0xcc, 0xdd}
)

// rtpPacket marshals a packet of the talker's SSRC 1234 and payload type
// 96.
func rtpPacket(t testing.TB, seq uint16, ts uint32, payload []byte) []byte {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: 1234}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upstreamFor returns an Upstream of mime on clk (buffer 0 for the
// default), counting its keyframe requests.
func upstreamFor(t testing.TB, mime string, clk *clock, buffer int) (*Upstream, *int) {
	t.Helper()
	requests := new(int)
	var mu sync.Mutex
	rate := uint32(90000)
	if mime == webrtc.MimeTypeOpus {
		rate = 48000
	}
	u, err := NewUpstream(UpstreamConfig{
		MimeType: mime, ClockRate: rate, BufferPackets: buffer, Now: clk.Now,
		RequestKeyframe: func() { mu.Lock(); *requests++; mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	return u, requests
}

// downstreamFor returns a Downstream of SSRC ssrc and payload type 100 writing
// to a fakeWriter.
func downstreamFor(t testing.TB, ssrc uint32) (*Downstream, *fakeWriter) {
	t.Helper()
	w := &fakeWriter{}
	d, err := NewDownstream(DownstreamConfig{SSRC: ssrc, PayloadType: 100, Writer: w})
	if err != nil {
		t.Fatal(err)
	}
	return d, w
}
