package rtc

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// AddSimulcast adds to pc one video track sent as simulcast: layers are its
// encodings, each a TrackLocal with its rid (webrtc.WithRTPStreamID), in
// the order of the SDP's a=simulcast line. Their packets carry the MID and
// RID header extensions (RFC 9143 §15, RFC 8852 §3.1) that a receiver of
// simulcast tells the layers apart by and that pion's TrackLocals do not
// write: each layer is bound through a wrapper that sets them. It returns
// the RTPSender, whose ReadSimulcastRTCP reads each layer's RTCP.
func AddSimulcast(pc *webrtc.PeerConnection, layers []webrtc.TrackLocal) (*webrtc.RTPSender, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("simulcast: no layer")
	}
	mid := &midOf{}
	wrapped := make([]webrtc.TrackLocal, len(layers))
	for i, l := range layers {
		wrapped[i] = &simulcastLayer{TrackLocal: l, mid: mid}
	}
	sender, err := pc.AddTrack(wrapped[0])
	if err != nil {
		return nil, fmt.Errorf("simulcast layer %s: %w", layers[0].RID(), err)
	}
	for _, l := range wrapped[1:] {
		if err := sender.AddEncoding(l); err != nil {
			return nil, fmt.Errorf("simulcast layer %s: %w", l.RID(), err)
		}
	}
	for _, tr := range pc.GetTransceivers() {
		if tr.Sender() == sender {
			mid.tr.Store(tr)
		}
	}
	return sender, nil
}

// midOf is the MID of a transceiver, once negotiated.
type midOf struct {
	tr  atomic.Pointer[webrtc.RTPTransceiver]
	mid atomic.Pointer[[]byte]
}

// value returns the MID, or nil before it is known.
func (m *midOf) value() []byte {
	if mid := m.mid.Load(); mid != nil {
		return *mid
	}
	if tr := m.tr.Load(); tr != nil {
		if s := tr.Mid(); s != "" {
			b := []byte(s)
			m.mid.Store(&b)
			return b
		}
	}
	return nil
}

// simulcastLayer is a layer's TrackLocal, bound with a writer that sets
// the MID and RID header extensions.
type simulcastLayer struct {
	webrtc.TrackLocal
	mid *midOf
}

// Bind binds the layer's track with a context whose writer sets the
// negotiated extensions.
func (l *simulcastLayer) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	w := &layerWriter{TrackLocalWriter: ctx.WriteStream(), rid: []byte(l.RID()), mid: l.mid}
	for _, e := range ctx.HeaderExtensions() {
		switch e.URI {
		case sdp.SDESMidURI:
			w.midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			w.ridID = uint8(e.ID)
		}
	}
	return l.TrackLocal.Bind(layerContext{TrackLocalContext: ctx, w: w})
}

// layerContext is a TrackLocalContext whose WriteStream is a layerWriter.
type layerContext struct {
	webrtc.TrackLocalContext
	w *layerWriter
}

func (c layerContext) WriteStream() webrtc.TrackLocalWriter { return c.w }

// layerWriter writes a layer's packets with the MID (once known) and RID
// header extensions set, on a copy of each header.
type layerWriter struct {
	webrtc.TrackLocalWriter
	midID, ridID uint8
	rid          []byte
	mid          *midOf

	mu   sync.Mutex
	exts []rtp.Extension
}

func (w *layerWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := *h
	w.exts = append(w.exts[:0], h.Extensions...)
	c.Extensions = w.exts
	if mid := w.mid.value(); mid != nil && w.midID != 0 {
		if err := c.SetExtension(w.midID, mid); err != nil {
			return 0, err
		}
	}
	if w.ridID != 0 {
		if err := c.SetExtension(w.ridID, w.rid); err != nil {
			return 0, err
		}
	}
	n, err := w.TrackLocalWriter.WriteRTP(&c, payload)
	w.exts = c.Extensions[:0]
	return n, err
}
