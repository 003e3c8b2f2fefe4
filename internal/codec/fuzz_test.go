package codec

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/webrtc/v4"
)

// Any SPS gives a picture size or ErrBadSPS, and no panic or long loop.
func FuzzSPSSize(f *testing.F) {
	f.Add(sps320x240())
	f.Add(spsHigh())
	f.Add(baseline().ue(1).u(1, 0).ue(0).ue(0).ue(255).b)
	f.Add((&bitWriter{}).u(8, 0x67).u(8, 100).u(16, 0x001e).ue(0).ue(3).u(1, 0).ue(0).ue(0).u(1, 0).u(1, 1).u(12, 0xfff).b)
	f.Add(baseline().ue(2).ue(1).u(1, 0).ue(0).ue(0).u(1, 1).u(1, 1).u(1, 1).ue(8).ue(0).ue(0).ue(0).u(8, 0x80).b)
	f.Fuzz(func(t *testing.T, sps []byte) {
		w, h, err := SPSSize(sps)
		if err != nil {
			if !errors.Is(err, ErrBadSPS) || w != 0 || h != 0 {
				t.Fatalf("SPSSize = %dx%d, %v; want 0x0 with ErrBadSPS", w, h, err)
			}
			return
		}
		if w <= 0 || h <= 0 || w > maxMbs*16 || h > maxMbs*32 {
			t.Fatalf("SPSSize = %dx%d, nil", w, h)
		}
	})
}

// Any frame, read as VP8, VP9 and H.264, is a keyframe of a size within
// the codec's bounds, or no keyframe with nothing else said.
func FuzzKeyframe(f *testing.F) {
	f.Add(vp8Key)
	f.Add(vp9Header(0, 0, 1, 320, 240))
	f.Add(vp9Header(3, 0, 7, 65536, 65536))
	f.Add(vp9Header(1, 0, 1, 1280, 720))
	f.Add(avc(sps320x240(), pps, idr))
	f.Add(avc(spsHigh(), pps, slice, idr))
	f.Add(avc(baseline().ue(3).b, pps, idr))
	// Sizes a keyframe may declare: VP8 takes its 14-bit fields as they
	// are, VP9 adds 1 to its 16-bit ones.
	limits := map[string]struct{ min, width, height int }{
		webrtc.MimeTypeVP8:  {0, 1<<14 - 1, 1<<14 - 1},
		webrtc.MimeTypeVP9:  {1, 1 << 16, 1 << 16},
		webrtc.MimeTypeH264: {1, maxMbs * 16, maxMbs * 32},
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		for mime, l := range limits {
			p, key, err := Keyframe(mime, frame)
			switch {
			case err != nil && !errors.Is(err, ErrBadSPS) && !errors.Is(err, ErrNoParameterSets) && !errors.Is(err, ErrBadPPS):
				t.Fatalf("%s: unexpected error %v", mime, err)
			case !key && (p.Width != 0 || p.Height != 0 || p.AVCConfig != nil):
				t.Fatalf("%s: no keyframe but %+v, %v", mime, p, err)
			case key && (err != nil || p.Width < l.min || p.Height < l.min || p.Width > l.width || p.Height > l.height):
				t.Fatalf("%s: keyframe of %dx%d, %v", mime, p.Width, p.Height, err)
			case key && mime == webrtc.MimeTypeH264 && (len(p.AVCConfig) < 11 || p.AVCConfig[0] != 1):
				t.Fatalf("%s: keyframe with configuration %x", mime, p.AVCConfig)
			case key && mime != webrtc.MimeTypeH264 && p.AVCConfig != nil:
				t.Fatalf("%s: keyframe with configuration %x", mime, p.AVCConfig)
			}
		}
	})
}

// Splitting an AVC access unit gives non-empty NAL units that, each after
// its length, make up the start of the access unit.
func FuzzAVCNALs(f *testing.F) {
	f.Add(avc(sps320x240(), pps, idr))
	f.Add(append(avc(sps320x240()), 0, 0, 0, 5, 0x65))
	f.Add(append(avc(idr), 0xff, 0xff, 0xff, 0xff, 0x65))
	f.Fuzz(func(t *testing.T, au []byte) {
		nals := AVCNALs(au)
		for i, n := range nals {
			if len(n) == 0 {
				t.Fatalf("NAL unit %d is empty", i)
			}
		}
		if again := avc(nals...); !bytes.HasPrefix(au, again) {
			t.Fatalf("NAL units %x are not the start of %x", nals, au)
		}
	})
}

// Any RTP payload, read as VP8, VP9 and H.264, gives an answer without a
// panic, and a keyframe packet has the bits that begin one.
func FuzzKeyframePacket(f *testing.F) {
	f.Add(append([]byte{0x90, 0xe0, 0x81, 0x02, 0x07, 0x40}, vp8Key...))
	f.Add(append([]byte{0x8a, 0x05, 0x18, 0x01, 0x40, 0x00, 0xf0, 0x01, 0x14, 0x01}, vp9Header(0, 0, 1, 320, 240)...))
	f.Add(append([]byte{0xa8, 0x81, 0x02, 0x00, 0x07}, vp9Header(1, 0, 1, 320, 240)...))
	f.Add([]byte{0x78, 0x00, 0x04, 0x68, 0xce, 0x38, 0x80, 0x00, 0x04, 0x65, 0x88, 0x84, 0x00})
	f.Add([]byte{0x7c, 0x85, 0x88, 0x84})
	f.Add(sps320x240())
	f.Fuzz(func(t *testing.T, payload []byte) {
		if KeyframePacket(webrtc.MimeTypeVP8, payload) && (payload[0]&0x17 != 0x10) {
			t.Fatalf("VP8 keyframe packet without S or with partition %d", payload[0]&0x07)
		}
		if KeyframePacket(webrtc.MimeTypeVP9, payload) && payload[0]&0x48 != 0x08 {
			t.Fatalf("VP9 keyframe packet with B %d, P %d", payload[0]>>3&1, payload[0]>>6&1)
		}
		if KeyframePacket(webrtc.MimeTypeH264, payload) {
			switch NALTypeOf(payload) {
			case NALIDR, NALSPS, stapA, fuA:
			default:
				t.Fatalf("H.264 keyframe packet of type %d", NALTypeOf(payload))
			}
		}
	})
}
