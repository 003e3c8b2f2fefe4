package media

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/codec"
	"github.com/broadcast-service/broadcast/internal/rtpseq"
)

// videoCount is the video track reader's state (its goroutine's own).
type videoCount struct {
	mime string
	seq  rtpseq.Counter

	// The frame being received: its timestamp, whether its first packet
	// seen began a keyframe, and whether its packets have come in order
	// without a gap so far.
	ts       uint32
	key, gap bool
	last     uint16 // the frame's last sequence number seen
}

// readVideo counts the video track until it ends.
func (w *Watcher) readVideo(t *webrtc.TrackRemote) {
	c := videoCount{mime: t.Codec().MimeType}
	buf := make([]byte, 1500)
	var h rtp.Header
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		off, err := h.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		c.seq.Push(h.SequenceNumber)
		w.received.Store(c.seq.Received())
		w.expected.Store(c.seq.Expected())
		if c.frame(&h, buf[off:n]) {
			w.frames.Add(1)
			if c.key && !c.gap && w.ttff.Load() == 0 {
				w.ttff.Store(int64(time.Since(w.requested)))
				close(w.live)
			}
		}
	}
}

// frame follows the frame a packet belongs to, and reports whether the
// packet ends it (the marker bit). A frame is whole when its first packet
// seen begins the picture and no sequence number is missing up to the
// marker; c.key says the first began a keyframe.
func (c *videoCount) frame(h *rtp.Header, payload []byte) bool {
	if h.Timestamp != c.ts || c.seq.Received() == 1 {
		c.ts, c.last, c.gap = h.Timestamp, h.SequenceNumber, false
		c.key = codec.KeyframePacket(c.mime, payload)
	} else {
		if h.SequenceNumber != c.last+1 {
			c.gap = true
		}
		c.last = h.SequenceNumber
	}
	return h.Marker
}
