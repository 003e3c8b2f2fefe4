package codec

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/testmedia"
)

// Frames from ffmpeg's encoders, 2 s of 320x240 at 30 fps with a keyframe
// each second, read as frames and as pion's payloaders packetize them.
func TestMedia(t *testing.T) {
	media := testmedia.Make(t, 2)
	frames := map[string][][]byte{
		webrtc.MimeTypeVP8:  testmedia.IVFFrames(t, media.VP8),
		webrtc.MimeTypeVP9:  testmedia.IVFFrames(t, media.VP9),
		webrtc.MimeTypeH264: avcAccessUnits(testmedia.AccessUnits(t, media.H264)),
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

// avcAccessUnits puts each access unit in AVC form, as the viewer gets it.
func avcAccessUnits(aus [][][]byte) [][]byte {
	out := make([][]byte, len(aus))
	for i, nals := range aus {
		out[i] = avc(nals...)
	}
	return out
}
