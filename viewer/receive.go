package viewer

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/record"
	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/rtpseq"
)

// The kinds of track a talker sends.
const (
	kindVideo = record.KindVideo
	kindAudio = record.KindAudio
)

// trackReader turns one remote track's packets into frames: counted, and
// recorded from the first keyframe on.
type trackReader struct {
	v        *Viewer
	frames   *record.Frames
	rec      *record.File  // nil when not recording
	keyed    bool          // a keyframe has come (always, for audio)
	firstKey chan struct{} // closed at the first keyframe
}

// receive reads one remote track until it ends.
func (v *Viewer) receive(pc *webrtc.PeerConnection, t *webrtc.TrackRemote) {
	frames, err := record.NewFrames(t.Codec().MimeType, t.Codec().ClockRate)
	if err != nil {
		v.log.Warn("track not recorded", "codec", t.Codec().MimeType)
		drain(t)
		return
	}
	frames.Skipped = func(err error) { v.log.Debug("keyframe skipped", "err", err) }
	kind := frames.Kind()
	r := &trackReader{v: v, frames: frames, rec: v.recorder(), keyed: kind == kindAudio, firstKey: make(chan struct{})}
	if r.rec != nil && kind == kindVideo {
		if err := r.rec.SetVideo(frames.MimeType()); err != nil {
			v.fail(err)
			return
		}
	}
	if kind == kindVideo {
		defer v.askKeyframes(pc, t.SSRC(), r.firstKey)()
	}
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
		if err := frames.Push(pkt, r.frame); err != nil {
			v.fail(err)
			return
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

// frame counts and records one frame (video from the first keyframe on).
func (r *trackReader) frame(f record.Frame) error {
	if f.Kind == kindVideo {
		if !r.keyed {
			r.keyed = true
			close(r.firstKey)
			r.v.live(r.frames.MimeType())
		}
		r.v.frames.Add(1)
	}
	r.v.bytes.Add(int64(len(f.Data)))
	if r.rec == nil {
		return nil
	}
	return r.rec.Write(f)
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

func (v *Viewer) recorder() *record.File {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.rec
}
