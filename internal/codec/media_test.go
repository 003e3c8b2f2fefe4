package codec

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"github.com/broadcast-service/broadcast/internal/testmedia"
)

// Frames from ffmpeg's encoders, 2 s of 320x240 at 30 fps with a keyframe
// each second, read as frames and as pion's payloaders packetize them.
func TestMedia(t *testing.T) {
	media := testmedia.Make(t, 2)
	frames := map[string][][]byte{
		webrtc.MimeTypeVP8:  ivfFrames(t, media.VP8),
		webrtc.MimeTypeVP9:  ivfFrames(t, media.VP9),
		webrtc.MimeTypeH264: avcAccessUnits(t, media.H264),
	}
	for mime, f := range frames {
		if len(f) != media.Frames {
			t.Fatalf("%s: %d frames, want %d", mime, len(f), media.Frames)
		}
	}
	t.Run("Keyframe", func(t *testing.T) { testKeyframeMedia(t, frames) })
	t.Run("KeyframePacket", func(t *testing.T) { testKeyframePacketMedia(t, frames) })
}

// Each keyframe is one of 320x240, and no other frame is.
func testKeyframeMedia(t *testing.T, media map[string][][]byte) {
	for mime, frames := range media {
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

// Through pion's payloaders, the first packet of each keyframe is a
// keyframe packet, and no packet of another frame.
func testKeyframePacketMedia(t *testing.T, media map[string][][]byte) {
	vp8, vp9 := media[webrtc.MimeTypeVP8], media[webrtc.MimeTypeVP9]
	var h264 [][]byte
	for _, au := range media[webrtc.MimeTypeH264] {
		var annexB []byte
		for _, n := range AVCNALs(au) {
			annexB = append(append(annexB, 0, 0, 0, 1), n...)
		}
		h264 = append(h264, annexB)
	}
	tests := []struct {
		name   string
		mime   string
		p      rtp.Payloader
		frames [][]byte
	}{
		{"VP8", webrtc.MimeTypeVP8, &codecs.VP8Payloader{}, vp8},
		{"VP8 with PictureID", webrtc.MimeTypeVP8, &codecs.VP8Payloader{EnablePictureID: true}, vp8},
		{"VP9", webrtc.MimeTypeVP9, &codecs.VP9Payloader{}, vp9},
		{"VP9 flexible", webrtc.MimeTypeVP9, &codecs.VP9Payloader{FlexibleMode: true}, vp9},
		{"H.264", webrtc.MimeTypeH264, &codecs.H264Payloader{}, h264},
		{"H.264 without STAP-A", webrtc.MimeTypeH264, &codecs.H264Payloader{DisableStapA: true}, h264},
	}
	for _, tt := range tests {
		for _, mtu := range []uint16{1200, 100} {
			keys := 0
			for i, f := range tt.frames {
				packets := tt.p.Payload(mtu, f)
				if len(packets) == 0 {
					t.Fatalf("%s frame %d: no packets", tt.name, i)
				}
				for j, p := range packets {
					key := KeyframePacket(tt.mime, p)
					if key {
						keys++
					}
					// H.264's IDR slice after its SPS starts a keyframe too.
					if want := i%30 == 0 && (j == 0 || tt.mime == webrtc.MimeTypeH264 && key); key != want {
						t.Fatalf("%s MTU %d frame %d packet %d: keyframe %v, want %v (%x)", tt.name, mtu, i, j, key, want, p[:min(len(p), 16)])
					}
				}
			}
			if keys < len(tt.frames)/30 {
				t.Errorf("%s MTU %d: %d keyframe packets", tt.name, mtu, keys)
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
