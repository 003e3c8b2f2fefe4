package relay

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/codec"
)

// talkerTrack is one of the talker's tracks as the room relays it: what
// the talker negotiated, and the Upstreams its packets go through, one per
// simulcast layer (one without simulcast).
type talkerTrack struct {
	id       string // the watchers' track id: its kind, and a number for a second video
	kind     webrtc.RTPCodecType
	codec    webrtc.RTPCodecParameters
	receiver *webrtc.RTPReceiver
	layers   *layers
}

// trackID returns the id of a new track of kind among tracks: its kind,
// and the number of tracks of that kind there are with it past the first.
func trackID(kind webrtc.RTPCodecType, tracks []*talkerTrack) string {
	n := 1
	for _, t := range tracks {
		if t.kind == kind {
			n++
		}
	}
	if n == 1 {
		return kind.String()
	}
	return fmt.Sprintf("%s%d", kind, n)
}

// video reports whether the track is video.
func (t *talkerTrack) video() bool { return t.kind == webrtc.RTPCodecTypeVideo }

// watcherTrack is a watcher's copy of a talker's track: the pion TrackLocal
// added to the watcher's PeerConnection. Bind makes its Downstream from
// the SSRC and payload type the watcher negotiated; the room attaches it
// to the Upstream once the watcher's media path is up (a packet written
// before DTLS is done is lost, and with it the keyframe the watcher starts
// on). Of a simulcast track it forwards one layer (layer), which its
// choice (the watcher's simulcast.Selector) moves.
type watcherTrack struct {
	room   *Room
	w      *watcher
	from   *talkerTrack
	choice *layerChoice // nil without simulcast
	begun  atomic.Bool  // a packet went out

	mu       sync.Mutex
	down     *Downstream
	attached bool
	layer    int // the layer forwarded once attached, or simulcast.Paused
}

var _ webrtc.TrackLocal = (*watcherTrack)(nil)

// ID is the track's id in the watcher's SDP: its kind ("video2" for a
// second video).
func (t *watcherTrack) ID() string { return t.from.id }

// RID is empty: a watcher gets one layer.
func (t *watcherTrack) RID() string { return "" }

// StreamID is the media stream id in the watcher's SDP.
func (t *watcherTrack) StreamID() string { return "relay" }

// Kind is the talker's track's kind.
func (t *watcherTrack) Kind() webrtc.RTPCodecType { return t.from.kind }

// Bind makes the watcher's Downstream once its answer is taken, with the
// negotiated SSRC and the payload type of the talker's codec.
func (t *watcherTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	c, ok := matchCodec(t.from.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("%w: the watcher did not accept %s", ErrUnsupportedCodec, t.from.codec.MimeType)
	}
	var abs uint8
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == sdp.ABSSendTimeURI && e.ID > 0 && e.ID <= 14 {
			abs = uint8(e.ID)
		}
	}
	d, err := NewDownstream(DownstreamConfig{
		SSRC: uint32(ctx.SSRC()), PayloadType: uint8(c.PayloadType),
		Writer: &countingWriter{w: ctx.WriteStream(), t: t}, AbsSendTimeID: abs,
	})
	if err != nil {
		return webrtc.RTPCodecParameters{}, err
	}
	t.mu.Lock()
	t.down = d
	t.mu.Unlock()
	return c, nil
}

// Unbind detaches the watcher's Downstream and forgets it, in one hold of
// t.mu: an attach cannot add it in between.
func (t *watcherTrack) Unbind(webrtc.TrackLocalContext) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.detachLocked()
	t.down = nil
	return nil
}

// downstream returns the watcher's Downstream, or nil before Bind.
func (t *watcherTrack) downstream() *Downstream {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.down
}

// attach attaches the Downstream to the talker's track, its layer's
// Upstream (which asks for a keyframe, for video), unless its video is
// paused; it reports false before Bind. t.mu is held across the Add, so
// that a detach (Unbind) cannot run between the two.
func (t *watcherTrack) attach() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.down
	if d != nil && !t.attached {
		if up := t.from.layers.upstream(t.layer); up != nil {
			up.Add(d)
		}
	}
	t.attached = d != nil
	return d != nil
}

// reattach adds the Downstream of an attached watcher that forwards
// nothing to its layer's Upstream, if that has come since (a track whose
// first packet came after the watcher was served).
func (t *watcherTrack) reattach() {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.down
	if d == nil || !t.attached || d.Upstream() != nil {
		return
	}
	if up := t.from.layers.upstream(t.layer); up != nil {
		up.Add(d)
	}
}

// currentLayer returns the layer forwarded (or to be, once attached), or
// simulcast.Paused.
func (t *watcherTrack) currentLayer() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.layer
}

// setLayer makes layer (an index of the talker's track's layers, or
// simulcast.Paused) the one forwarded: once attached, the Downstream
// switches to it at its next keyframe (with now, stopping the current one
// at once: Downstream.SwitchNow), or detaches for Paused. It reports
// whether the layer changed.
func (t *watcherTrack) setLayer(layer int, now bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if layer == t.layer {
		return false
	}
	t.layer = layer
	if d := t.down; d != nil && t.attached {
		if up := t.from.layers.upstream(layer); up != nil && now {
			d.SwitchNow(up)
		} else if up != nil {
			d.Switch(up)
		} else {
			d.Detach()
		}
	}
	return true
}

// requestKeyframe asks the talker for a keyframe of the layer the watcher
// forwards (or waits for).
func (t *watcherTrack) requestKeyframe() {
	if d := t.downstream(); d != nil {
		if up := d.Upstream(); up != nil {
			up.RequestKeyframe()
		}
	}
}

// detach takes the Downstream off the talker's track.
func (t *watcherTrack) detach() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.detachLocked()
}

// detachLocked is detach with t.mu held.
func (t *watcherTrack) detachLocked() {
	if t.down != nil && t.attached {
		t.down.Detach()
	}
	t.attached = false
}

// matchCodec returns the codec of offered that is the talker's: the same
// type and format parameters, or else the same type and clock rate.
func matchCodec(talker webrtc.RTPCodecParameters, offered []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	same := func(c webrtc.RTPCodecParameters) bool {
		return strings.EqualFold(c.MimeType, talker.MimeType) && c.ClockRate == talker.ClockRate
	}
	for _, c := range offered {
		if same(c) && c.SDPFmtpLine == talker.SDPFmtpLine {
			return c, true
		}
	}
	for _, c := range offered {
		if same(c) {
			return c, true
		}
	}
	return webrtc.RTPCodecParameters{}, false
}

// countingWriter is the pion writer a Downstream writes to, counting what
// goes out and telling the room of the watcher's first packet.
type countingWriter struct {
	w webrtc.TrackLocalWriter
	t *watcherTrack
}

// WriteRetransmission writes a packet NACKed and sent again, counted in
// Stats.NACKsServed (by the room's RTCP reader), not in Packets or Bytes.
func (c *countingWriter) WriteRetransmission(h *rtp.Header, payload []byte) (int, error) {
	return c.w.WriteRTP(h, payload)
}

func (c *countingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	n, err := c.w.WriteRTP(h, payload)
	if err != nil {
		return n, err
	}
	st := &c.t.room.stats
	st.packets.Add(1)
	st.bytes.Add(uint64(len(payload)))
	if !c.t.begun.Load() && c.t.begun.CompareAndSwap(false, true) && c.t.from.video() {
		c.t.w.started(c.t.room, codec.KeyframePacket(c.t.from.codec.MimeType, payload))
	}
	return n, nil
}
