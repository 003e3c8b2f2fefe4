package codec

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"github.com/broadcast-service/broadcast/internal/testmedia"
)

// Frames from ffmpeg's encoders: a keyframe of 320x240 each 30 frames.
func TestKeyframeMedia(t *testing.T) {
	media := testmedia.Make(t, 2)
	for mime, frames := range map[string][][]byte{
		webrtc.MimeTypeVP8:  ivfFrames(t, media.VP8),
		webrtc.MimeTypeVP9:  ivfFrames(t, media.VP9),
		webrtc.MimeTypeH264: avcAccessUnits(t, media.H264),
	} {
		if len(frames) != media.Frames {
			t.Fatalf("%s: %d frames, want %d", mime, len(frames), media.Frames)
		}
		for i, f := range frames {
			p, key, err := Keyframe(mime, f)
			if err != nil || key != (i%30 == 0) || key && (p.Width != 320 || p.Height != 240) {
				t.Fatalf("%s frame %d: %d×%d, %v, %v", mime, i, p.Width, p.Height, key, err)
			}
			if (p.AVCConfig != nil) != (key && mime == webrtc.MimeTypeH264) {
				t.Fatalf("%s frame %d: AVCConfig %x", mime, i, p.AVCConfig)
			}
		}
	}
}

func ivfFrames(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, frame)
	}
}

// avcAccessUnits reads an Annex B file into access units in AVC form,
// each ending with its picture's slice.
func avcAccessUnits(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][]byte
	var nals [][]byte
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			return aus
		}
		if err != nil {
			t.Fatal(err)
		}
		nals = append(nals, nal.Data)
		if typ := NALTypeOf(nal.Data); typ == NALSlice || typ == NALIDR {
			aus, nals = append(aus, avc(nals...)), nil
		}
	}
}
