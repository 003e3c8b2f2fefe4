package viewer

import (
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"

	"github.com/broadcast-service/broadcast/protocol"
)

// rtcpCounter counts the NACKs and PLIs this side sends, whoever sends them
// (pion's NACK generator, or the viewer asking for a keyframe).
type rtcpCounter struct {
	interceptor.NoOp
	nacks, plis *atomic.Uint32
}

// rtcpCounterFactory makes the interceptor for each PeerConnection.
type rtcpCounterFactory struct{ nacks, plis *atomic.Uint32 }

func (f rtcpCounterFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &rtcpCounter{nacks: f.nacks, plis: f.plis}, nil
}

func (c *rtcpCounter) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, attrs interceptor.Attributes) (int, error) {
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.TransportLayerNack:
				c.nacks.Add(1)
			case *rtcp.PictureLossIndication:
				c.plis.Add(1)
			}
		}
		return w.Write(pkts, attrs)
	})
}

func (v *Viewer) stats(ended string) Stats {
	st := Stats{
		Frames: v.frames.Load(), Bytes: v.bytes.Load(), Ended: ended,
		PLIs: v.plis.Load(), NACKs: v.nacks.Load(), PacketsLost: v.lost.Load(),
		Via: ViaDirect,
	}
	if v.relayed() {
		st.Via = ViaRelay
	}
	v.mu.Lock()
	st.Layer = v.layer
	v.mu.Unlock()
	if at := v.firstAt.Load(); at > 0 {
		first := time.Unix(0, at)
		st.TimeToFirstFrameMS = float64(first.Sub(v.requestedAt).Microseconds()) / 1000
		if secs := time.Since(first).Seconds(); secs > 0 {
			st.Bitrate = float64(st.Bytes*8) / secs
		}
	}
	return st
}

// reportBase is where the previous quality report left off.
type reportBase struct {
	at            time.Time
	frames, bytes int64
	lost          int64
}

// next returns a `stats` message for the talker covering the time since
// the previous one: bitrate (bits/s), fps and packets lost.
func (b *reportBase) next(v *Viewer, talker string) protocol.Stats {
	now := time.Now()
	frames, bytes, lost := v.frames.Load(), v.bytes.Load(), v.videoLost.Load()
	msg := protocol.Stats{Head: protocol.Head{Type: protocol.TypeStats, Sendto: talker}}
	if secs := now.Sub(b.at).Seconds(); !b.at.IsZero() && secs > 0 {
		bitrate, fps, packetsLost := float64(bytes-b.bytes)*8/secs, float64(frames-b.frames)/secs, float64(lost-b.lost)
		msg.Bitrate, msg.FPS, msg.PacketsLost = &bitrate, &fps, &packetsLost
	}
	*b = reportBase{at: now, frames: frames, bytes: bytes, lost: lost}
	return msg
}
