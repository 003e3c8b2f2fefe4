package codec

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/webrtc/v4"
)

// The media types are pion's, which the peers pass.
func TestMediaTypes(t *testing.T) {
	for got, want := range map[string]string{mimeVP8: webrtc.MimeTypeVP8, mimeVP9: webrtc.MimeTypeVP9, mimeH264: webrtc.MimeTypeH264} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

// vp8Key is a VP8 keyframe's first 10 bytes: frame tag, start code, 320
// wide with horizontal scale 1, 240 high.
var vp8Key = []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x41, 0xf0, 0x00}

func TestVP8Size(t *testing.T) {
	inter := append([]byte{0x51}, vp8Key[1:]...)
	tests := []struct {
		name  string
		frame []byte
		w, h  int
		key   bool
	}{
		{"keyframe", vp8Key, 320, 240, true},
		{"interframe", inter, 0, 0, false},
		{"keyframe cut short", vp8Key[:9], 0, 0, false},
		{"empty", nil, 0, 0, false},
	}
	for _, tt := range tests {
		if w, h, key := VP8Size(tt.frame); w != tt.w || h != tt.h || key != tt.key {
			t.Errorf("%s: VP8Size = %dx%d, %v; want %dx%d, %v", tt.name, w, h, key, tt.w, tt.h, tt.key)
		}
	}
}

// vp9Header writes a VP9 uncompressed header up to frame_size (VP9
// bitstream spec §6.2), then a byte of what follows.
func vp9Header(profile, frameType, colorSpace int, w, h uint64) []byte {
	b := (&bitWriter{}).u(2, 2).u(1, uint64(profile&1)).u(1, uint64(profile>>1))
	if profile == 3 {
		b.u(1, 0)
	}
	b.u(1, 0).u(1, uint64(frameType)).u(1, 1).u(1, 0).u(24, vp9SyncCode)
	if profile >= 2 {
		b.u(1, 1) // 12 bits
	}
	b.u(3, uint64(colorSpace))
	odd := profile == 1 || profile == 3
	switch {
	case colorSpace != 7 && odd:
		b.u(1, 0).u(1, 0).u(1, 0).u(1, 0) // color_range, subsampling_x, subsampling_y (4:4:4), reserved_zero
	case colorSpace != 7:
		b.u(1, 1) // color_range
	case odd:
		b.u(1, 0) // reserved_zero
	}
	return b.u(16, w-1).u(16, h-1).u(8, 0xff).b
}

func TestVP9Size(t *testing.T) {
	const bt601, rgb = 1, 7
	tests := []struct {
		name  string
		frame []byte
		w, h  int
		key   bool
	}{
		{"profile 0", vp9Header(0, 0, bt601, 320, 240), 320, 240, true},
		{"profile 0 RGB", vp9Header(0, 0, rgb, 640, 360), 640, 360, true},
		{"profile 1 4:4:4", vp9Header(1, 0, bt601, 1280, 720), 1280, 720, true},
		{"profile 1 RGB", vp9Header(1, 0, rgb, 1280, 720), 1280, 720, true},
		{"profile 2", vp9Header(2, 0, bt601, 1920, 1080), 1920, 1080, true},
		{"profile 3 4:4:4", vp9Header(3, 0, bt601, 4096, 2160), 4096, 2160, true},
		{"profile 3 RGB", vp9Header(3, 0, rgb, 65536, 65536), 65536, 65536, true},
		{"interframe", vp9Header(0, 1, bt601, 320, 240), 0, 0, false},
		{"shown existing frame", []byte{0x88}, 0, 0, false},
		{"no frame marker", vp9Header(0, 0, bt601, 320, 240)[1:], 0, 0, false},
		{"cut in the size", vp9Header(0, 0, bt601, 320, 240)[:6], 0, 0, false},
		{"empty", nil, 0, 0, false},
	}
	for _, tt := range tests {
		if w, h, key := VP9Size(tt.frame); w != tt.w || h != tt.h || key != tt.key {
			t.Errorf("%s: VP9Size = %dx%d, %v; want %dx%d, %v", tt.name, w, h, key, tt.w, tt.h, tt.key)
		}
	}
}

// avc writes NAL units as an access unit in AVC form.
func avc(nals ...[]byte) []byte {
	var au []byte
	for _, n := range nals {
		au = append(au, byte(len(n)>>24), byte(len(n)>>16), byte(len(n)>>8), byte(len(n)))
		au = append(au, n...)
	}
	return au
}

var (
	pps   = []byte{0x68, 0xce, 0x38, 0x80}
	idr   = []byte{0x65, 0x88, 0x84, 0x00}
	slice = []byte{0x41, 0x9a, 0x02, 0x00}
)

func TestAVCNALs(t *testing.T) {
	sps := sps320x240()
	tests := []struct {
		name string
		au   []byte
		want [][]byte
	}{
		{"three", avc(sps, pps, idr), [][]byte{sps, pps, idr}},
		{"zero length", append(avc(sps), 0, 0, 0, 0, 0x65), [][]byte{sps}},
		{"length past the end", append(avc(sps), 0, 0, 0, 5, 0x65), [][]byte{sps}},
		{"length of 2^32-1", append(avc(sps), 0xff, 0xff, 0xff, 0xff, 0x65), [][]byte{sps}},
		{"three bytes left", append(avc(idr), 0, 0, 0), [][]byte{idr}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		got := AVCNALs(tt.au)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d NAL units %x, want %x", tt.name, len(got), got, tt.want)
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], tt.want[i]) {
				t.Errorf("%s: NAL unit %d is %x, want %x", tt.name, i, got[i], tt.want[i])
			}
		}
	}
}

func TestAVCConfig(t *testing.T) {
	sps := []byte{0x67, 0x42, 0xc0, 0x1e, 0xda}
	got, err := AVCConfig(sps, pps)
	want := []byte{1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 5, 0x67, 0x42, 0xc0, 0x1e, 0xda, 1, 0, 4, 0x68, 0xce, 0x38, 0x80}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("AVCConfig = %x, %v; want %x", got, err, want)
	}
	long := make([]byte, 1<<16)
	copy(long, sps)
	for name, tt := range map[string]struct {
		sps, pps []byte
		err      error
	}{
		"no SPS":         {nil, pps, ErrNoParameterSets},
		"SPS of 3 bytes": {sps[:3], pps, ErrNoParameterSets},
		"no PPS":         {sps, nil, ErrNoParameterSets},
		"SPS of 64 KiB":  {long, pps, ErrBadSPS},
		"PPS of 64 KiB":  {sps, long, ErrBadPPS},
	} {
		if c, err := AVCConfig(tt.sps, tt.pps); !errors.Is(err, tt.err) || c != nil {
			t.Errorf("%s: AVCConfig = %x, %v; want %v", name, c, err, tt.err)
		}
	}
}

func TestKeyframeH264(t *testing.T) {
	sps := sps320x240()
	config, err := AVCConfig(sps, pps)
	if err != nil {
		t.Fatal(err)
	}
	p, key, err := Keyframe(webrtc.MimeTypeH264, avc(sps, pps, idr))
	if err != nil || !key || p.Width != 320 || p.Height != 240 || !bytes.Equal(p.AVCConfig, config) {
		t.Fatalf("IDR with SPS and PPS: %+v, %v, %v; want 320x240 with %x", p, key, err, config)
	}
	bad := baseline().ue(3).b
	for name, tt := range map[string]struct {
		au  []byte
		err error
	}{
		"slice":                {avc(sps, pps, slice), nil},
		"parameter sets alone": {avc(sps, pps), nil},
		"IDR alone":            {avc(idr), ErrNoParameterSets},
		"IDR without PPS":      {avc(sps, idr), ErrNoParameterSets},
		"IDR with a bad SPS":   {avc(bad, pps, idr), ErrBadSPS},
	} {
		if p, key, err := Keyframe(webrtc.MimeTypeH264, tt.au); key || !errors.Is(err, tt.err) || p.Width != 0 || p.AVCConfig != nil {
			t.Errorf("%s: %+v, %v, %v; want no keyframe, %v", name, p, key, err, tt.err)
		}
	}
}

func TestKeyframeCodecs(t *testing.T) {
	vp9 := vp9Header(0, 0, 1, 320, 240)
	tests := []struct {
		mime  string
		frame []byte
		key   bool
	}{
		{webrtc.MimeTypeVP8, vp8Key, true},
		{"video/vp8", vp8Key, true},
		{webrtc.MimeTypeVP9, vp9, true},
		{webrtc.MimeTypeVP9, vp8Key, false},
		{webrtc.MimeTypeAV1, vp8Key, false},
		{webrtc.MimeTypeOpus, vp8Key, false},
	}
	for _, tt := range tests {
		p, key, err := Keyframe(tt.mime, tt.frame)
		if err != nil || key != tt.key || key && (p.Width != 320 || p.Height != 240) || p.AVCConfig != nil {
			t.Errorf("Keyframe(%s, %x) = %+v, %v, %v; want key %v", tt.mime, tt.frame, p, key, err, tt.key)
		}
	}
}
