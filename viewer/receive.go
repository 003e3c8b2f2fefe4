package viewer

import (
	"strings"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/broadcast-service/broadcast/internal/codec"
	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/rtpseq"
)

// maxLate is how many packets the sample builder holds while a frame's
// missing packets may still come (pion's samplebuilder maxLate).
const maxLate = 512

// The kinds of track a talker sends.
const (
	kindVideo = "video"
	kindAudio = "audio"
)

// trackReader turns one remote track's packets into frames: counted, and
// recorded from the first keyframe on.
type trackReader struct {
	v        *Viewer
	kind     string // kindVideo or kindAudio
	mime     string // webrtc.MimeType*, as pion spells it
	clock    float64
	rec      *recorder     // nil when not recording
	keyed    bool          // a keyframe has come (always, for audio)
	firstKey chan struct{} // closed at the first keyframe
}

// depacketizer returns the depacketiser, MIME type and kind for a track's
// codec, or false for a codec the viewer does not read.
func depacketizer(mime string) (rtp.Depacketizer, string, string, bool) {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		return &codecs.VP8Packet{}, webrtc.MimeTypeVP8, kindVideo, true
	case strings.ToLower(webrtc.MimeTypeVP9):
		return &codecs.VP9Packet{}, webrtc.MimeTypeVP9, kindVideo, true
	case strings.ToLower(webrtc.MimeTypeH264):
		return &codecs.H264Packet{IsAVC: true}, webrtc.MimeTypeH264, kindVideo, true
	case strings.ToLower(webrtc.MimeTypeOpus):
		return &codecs.OpusPacket{}, webrtc.MimeTypeOpus, kindAudio, true
	}
	return nil, mime, "", false
}

// receive reads one remote track until it ends.
func (v *Viewer) receive(pc *webrtc.PeerConnection, t *webrtc.TrackRemote) {
	depack, mime, kind, ok := depacketizer(t.Codec().MimeType)
	if !ok {
		v.log.Warn("track not recorded", "codec", mime)
		drain(t)
		return
	}
	r := &trackReader{v: v, kind: kind, mime: mime, clock: float64(t.Codec().ClockRate), rec: v.recorder(), keyed: kind == kindAudio, firstKey: make(chan struct{})}
	if r.rec != nil && kind == kindVideo {
		if err := r.rec.setVideo(mime); err != nil {
			v.fail(err)
			return
		}
	}
	if kind == kindVideo {
		defer v.askKeyframes(pc, t.SSRC(), r.firstKey)()
	}
	sb := samplebuilder.New(maxLate, depack, t.Codec().ClockRate)
	var seq rtpseq.Counter
	defer func() { v.lost.Add(seq.Lost()) }()
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		seq.Push(pkt.SequenceNumber)
		if kind == kindVideo {
			v.videoLost.Store(seq.Lost())
		}
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			if err := r.sample(s); err != nil {
				v.fail(err)
				return
			}
		}
	}
}

// askKeyframes sends PLIs for the track until its first keyframe comes (see
// rtc.AskKeyframe); the function it returns stops asking and waits until it
// has.
func (v *Viewer) askKeyframes(pc *webrtc.PeerConnection, ssrc webrtc.SSRC, keyed <-chan struct{}) func() {
	stop := make(chan struct{})
	asking := make(chan struct{})
	go func() {
		defer close(asking)
		rtc.AskKeyframe(func() {
			_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}})
		}, keyframeAskEvery, keyframeAskTries, keyed, stop)
	}()
	return func() {
		close(stop)
		<-asking
	}
}

// sample counts and records one frame; video before the first keyframe is
// dropped.
func (r *trackReader) sample(s *media.Sample) error {
	var key bool
	var pic codec.Picture
	if r.kind == kindVideo {
		pic, key = r.keyframe(s.Data)
		if !r.keyed && !key {
			return nil
		}
		if !r.keyed {
			r.keyed = true
			close(r.firstKey)
			r.v.live(r.mime)
		}
		r.v.frames.Add(1)
	}
	r.v.bytes.Add(int64(len(s.Data)))
	if r.rec == nil {
		return nil
	}
	return r.rec.write(r.kind, s.Data, s.PacketTimestamp, r.clock, key || r.kind == kindAudio, pic.Width, pic.Height, pic.AVCConfig)
}

// keyframe reports whether a video frame is one a decoder can start from,
// with its size and, for H.264, the codec private data the recording
// needs. An H.264 IDR picture without parameter sets that parse is not:
// the watcher waits for one that brings them.
func (r *trackReader) keyframe(data []byte) (codec.Picture, bool) {
	pic, key, err := codec.Keyframe(r.mime, data)
	if err != nil {
		r.v.log.Debug("keyframe skipped", "err", err)
	}
	return pic, key
}

// live marks the first video keyframe: time to first frame, OnLive.
func (v *Viewer) live(mime string) {
	v.firstOnce.Do(func() {
		v.firstAt.Store(time.Now().UnixNano())
		close(v.firstFrame)
		v.log.Info("live", "codec", mime, "ttff_ms", time.Since(v.requestedAt).Milliseconds())
		if v.opts.OnLive != nil {
			v.opts.OnLive()
		}
	})
}

func (v *Viewer) recorder() *recorder {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.rec
}
