package viewer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/webrtc/v4"
)

// recorder writes audio and video into one WebM file. It starts at the
// first video keyframe (a file must begin with one); audio before that is
// dropped. Timestamps come from the RTP timestamps, each track anchored at
// its first sample's arrival, so the two stay in step.
type recorder struct {
	path      string
	videoMime string
	withAudio bool

	mu      sync.Mutex // guards the fields below
	start   time.Time
	video   webm.BlockWriteCloser
	audio   webm.BlockWriteCloser
	anchors map[string]anchor // per kind
	closed  bool
}

type anchor struct {
	rtp   uint32
	clock float64
	ms    int64
}

func newRecorder(path, videoMime string, withAudio bool) (*recorder, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".webm", ".mkv":
	default:
		return nil, fmt.Errorf("%w: record to .webm (VP8/VP9 with Opus), not %s", ErrUnsupportedCodec, filepath.Base(path))
	}
	if videoMime != webrtc.MimeTypeVP8 && videoMime != webrtc.MimeTypeVP9 && videoMime != "" {
		return nil, fmt.Errorf("%w: %s into WebM", ErrUnsupportedCodec, videoMime)
	}
	return &recorder{path: path, videoMime: videoMime, withAudio: withAudio, anchors: map[string]anchor{}}, nil
}

// open creates the file at the first keyframe, of the given size.
func (r *recorder) open(width, height int) error {
	f, err := os.Create(r.path)
	if err != nil {
		return fmt.Errorf("create recording: %w", err)
	}
	codec := "V_VP8"
	if r.videoMime == webrtc.MimeTypeVP9 {
		codec = "V_VP9"
	}
	tracks := []webm.TrackEntry{{
		Name: "Video", TrackNumber: 1, TrackUID: 1, CodecID: codec, TrackType: 1,
		Video: &webm.Video{PixelWidth: uint64(width), PixelHeight: uint64(height)},
	}}
	if r.withAudio {
		tracks = append(tracks, webm.TrackEntry{
			Name: "Audio", TrackNumber: 2, TrackUID: 2, CodecID: "A_OPUS", TrackType: 2,
			Audio: &webm.Audio{SamplingFrequency: 48000, Channels: 2},
		})
	}
	ws, err := webm.NewSimpleBlockWriter(f, tracks)
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("start recording: %w", err)
	}
	r.video = ws[0]
	if r.withAudio {
		r.audio = ws[1]
	}
	r.start = time.Now()
	return nil
}

// write adds one sample of kind ("video" or "audio") with its RTP timestamp
// and clock rate. It reports whether the sample went into the file.
func (r *recorder) write(kind string, data []byte, rtpTS uint32, clock float64, key bool, width, height int) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false, nil
	}
	if r.video == nil {
		if kind != "video" || !key {
			return false, nil
		}
		if err := r.open(width, height); err != nil {
			return false, err
		}
	}
	w := r.video
	if kind == "audio" {
		if r.audio == nil {
			return false, nil
		}
		w = r.audio
	}
	a, ok := r.anchors[kind]
	if !ok {
		a = anchor{rtp: rtpTS, clock: clock, ms: time.Since(r.start).Milliseconds()}
		r.anchors[kind] = a
	}
	ms := a.ms + int64(float64(int32(rtpTS-a.rtp))/a.clock*1000)
	if _, err := w.Write(key, ms, data); err != nil {
		return false, fmt.Errorf("write %s: %w", kind, err)
	}
	return true, nil
}

// close finalises the file; it is safe to call more than once.
func (r *recorder) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.audio != nil {
		err = r.audio.Close()
	}
	if r.video != nil {
		if cerr := r.video.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
