// Package record writes a stream's RTP into a file without decoding: each
// track's packets built into frames (Frames, on pion's samplebuilder),
// keyframes told (internal/codec), and the frames written into WebM (VP8,
// VP9) or Matroska (H.264), with Opus audio (File, on ebml-go). The Go
// watcher records with it, and so does the server (package recording,
// from the relay's tracks).
package record

import (
	"fmt"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/broadcast-service/broadcast/internal/codec"
)

// The kinds of track, as Frame.Kind says.
const (
	KindVideo = "video"
	KindAudio = "audio"
)

// maxLate is how many packets the sample builder holds while a frame's
// missing packets may still come (pion's samplebuilder maxLate).
const maxLate = 512

// Frame is one frame of a track: its payload, depacketised, with its RTP
// timestamp and clock rate (Hz). A video keyframe has Key set and
// Picture read from it (its size and, for H.264, its avcC record).
type Frame struct {
	Kind    string // KindVideo or KindAudio
	Data    []byte
	RTPTime uint32
	Clock   float64
	Key     bool
	Picture codec.Picture
}

// Frames turns one track's RTP packets into frames. Video frames before
// the first keyframe are dropped. It is for one goroutine.
type Frames struct {
	kind, mime string
	clock      float64
	sb         *samplebuilder.SampleBuilder
	keyed      bool
	// Skipped, if set, hears why a frame that looked like a keyframe was
	// not taken for one (an H.264 IDR picture without parameter sets that
	// parse).
	Skipped func(err error)
}

// NewFrames returns the Frames of a track of codec mime (as pion spells
// it, any case) at clock Hz. It returns ErrUnsupportedCodec for a codec
// other than VP8, VP9, H.264 and Opus.
func NewFrames(mime string, clock uint32) (*Frames, error) {
	var depack rtp.Depacketizer
	kind := KindVideo
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		depack, mime = &codecs.VP8Packet{}, webrtc.MimeTypeVP8
	case strings.ToLower(webrtc.MimeTypeVP9):
		depack, mime = &codecs.VP9Packet{}, webrtc.MimeTypeVP9
	case strings.ToLower(webrtc.MimeTypeH264):
		depack, mime = &codecs.H264Packet{IsAVC: true}, webrtc.MimeTypeH264
	case strings.ToLower(webrtc.MimeTypeOpus):
		depack, mime, kind = &codecs.OpusPacket{}, webrtc.MimeTypeOpus, KindAudio
	default:
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedCodec, mime)
	}
	return &Frames{kind: kind, mime: mime, clock: float64(clock), sb: samplebuilder.New(maxLate, depack, clock), keyed: kind == KindAudio}, nil
}

// Kind returns KindVideo or KindAudio.
func (f *Frames) Kind() string { return f.kind }

// MimeType returns the track's codec as pion spells it.
func (f *Frames) MimeType() string { return f.mime }

// Push takes one packet and calls each for every frame it completes, in
// order, from the first keyframe on; it returns the first error each
// returns.
func (f *Frames) Push(pkt *rtp.Packet, each func(Frame) error) error {
	f.sb.Push(pkt)
	for s := f.sb.Pop(); s != nil; s = f.sb.Pop() {
		fr := Frame{Kind: f.kind, Data: s.Data, RTPTime: s.PacketTimestamp, Clock: f.clock, Key: f.kind == KindAudio}
		if f.kind == KindVideo {
			pic, key, err := codec.Keyframe(f.mime, s.Data)
			if err != nil && f.Skipped != nil {
				f.Skipped(err)
			}
			if !f.keyed && !key {
				continue
			}
			f.keyed = true
			fr.Key, fr.Picture = key, pic
		}
		if err := each(fr); err != nil {
			return err
		}
	}
	return nil
}
