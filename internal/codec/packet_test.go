package codec

import (
	"slices"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestKeyframePacket(t *testing.T) {
	vp9 := vp9Header(0, 0, 1, 320, 240)
	vp9Inter := vp9Header(0, 1, 1, 320, 240)
	sps := sps320x240()
	stap := func(nals ...[]byte) []byte {
		p := []byte{0x78}
		for _, n := range nals {
			p = append(append(p, byte(len(n)>>8), byte(len(n))), n...)
		}
		return p
	}
	tests := []struct {
		name    string
		mime    string
		payload []byte
		key     bool
	}{
		{"VP8 start of a keyframe", webrtc.MimeTypeVP8, slices.Concat([]byte{0x10}, vp8Key), true},
		{"VP8 with 15-bit PictureID, TL0PICIDX, TID", webrtc.MimeTypeVP8, slices.Concat([]byte{0x90, 0xe0, 0x81, 0x02, 0x07, 0x40}, vp8Key), true},
		{"VP8 with 7-bit PictureID", "video/vp8", slices.Concat([]byte{0x90, 0x80, 0x05}, vp8Key), true},
		{"VP8 continuation", webrtc.MimeTypeVP8, slices.Concat([]byte{0x00}, vp8Key), false},
		{"VP8 partition 1", webrtc.MimeTypeVP8, slices.Concat([]byte{0x11}, vp8Key), false},
		{"VP8 interframe", webrtc.MimeTypeVP8, slices.Concat([]byte{0x10, 0x51}, vp8Key[1:]), false},
		{"VP8 descriptor alone", webrtc.MimeTypeVP8, []byte{0x90, 0xe0, 0x81}, false},
		{"VP8 keyframe cut short", webrtc.MimeTypeVP8, slices.Concat([]byte{0x10}, vp8Key[:9]), false},
		{"VP9 start of a keyframe", webrtc.MimeTypeVP9, slices.Concat([]byte{0x08}, vp9), true},
		{"VP9 with picture ID, layers, TL0PICIDX", webrtc.MimeTypeVP9, slices.Concat([]byte{0xa8, 0x81, 0x02, 0x00, 0x07}, vp9), true},
		{"VP9 flexible with layers", webrtc.MimeTypeVP9, slices.Concat([]byte{0xb8, 0x05, 0x00}, vp9), true},
		{"VP9 with scalability structure", webrtc.MimeTypeVP9, slices.Concat([]byte{0x8a, 0x05, 0x18, 0x01, 0x40, 0x00, 0xf0, 0x01, 0x14, 0x01}, vp9), true},
		{"VP9 spatial layer 1", webrtc.MimeTypeVP9, slices.Concat([]byte{0xa8, 0x05, 0x03, 0x07}, vp9), false},
		{"VP9 inter-picture predicted", webrtc.MimeTypeVP9, slices.Concat([]byte{0x48}, vp9), false},
		{"VP9 not the start", webrtc.MimeTypeVP9, slices.Concat([]byte{0x80, 0x05}, vp9), false},
		{"VP9 interframe without P", webrtc.MimeTypeVP9, slices.Concat([]byte{0x98, 0x85, 0x01}, vp9Inter), false},
		{"VP9 scalability structure past the end", webrtc.MimeTypeVP9, []byte{0x8a, 0x05, 0x18, 0x01}, false},
		{"VP9 picture group past the end", webrtc.MimeTypeVP9, []byte{0x8a, 0x08, 0xff, 0x0c}, false},
		{"H.264 SPS", webrtc.MimeTypeH264, sps, true},
		{"H.264 IDR", webrtc.MimeTypeH264, idr, true},
		{"H.264 PPS", webrtc.MimeTypeH264, pps, false},
		{"H.264 slice", webrtc.MimeTypeH264, slice, false},
		{"H.264 STAP-A of SPS and PPS", webrtc.MimeTypeH264, stap(sps, pps), true},
		{"H.264 STAP-A with the IDR last", webrtc.MimeTypeH264, stap(pps, []byte{0x06, 0x05}, idr), true},
		{"H.264 STAP-A of slices", webrtc.MimeTypeH264, stap(slice, slice), false},
		{"H.264 STAP-A past the end", webrtc.MimeTypeH264, stap(pps, idr)[:8], false},
		{"H.264 STAP-A with a size of 0", webrtc.MimeTypeH264, slices.Concat([]byte{0x78, 0, 0}, stap(idr)[1:]), false},
		{"H.264 FU-A start of an IDR", webrtc.MimeTypeH264, []byte{0x7c, 0x85, 0x88, 0x84}, true},
		{"H.264 FU-A middle of an IDR", webrtc.MimeTypeH264, []byte{0x7c, 0x05, 0x88, 0x84}, false},
		{"H.264 FU-A start of a slice", webrtc.MimeTypeH264, []byte{0x5c, 0x81, 0x9a, 0x02}, false},
		{"H.264 FU-A header alone", webrtc.MimeTypeH264, []byte{0x7c}, false},
		{"H.264 FU-B", webrtc.MimeTypeH264, []byte{0x7d, 0x85, 0x00, 0x01, 0x88}, false},
		{"Opus", webrtc.MimeTypeOpus, idr, false},
		{"empty", webrtc.MimeTypeVP8, nil, false},
	}
	for _, tt := range tests {
		if key := KeyframePacket(tt.mime, tt.payload); key != tt.key {
			t.Errorf("%s: KeyframePacket(%x) = %v, want %v", tt.name, tt.payload, key, tt.key)
		}
	}
}
