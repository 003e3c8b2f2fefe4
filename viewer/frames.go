package viewer

import (
	"encoding/binary"

	"github.com/pion/webrtc/v4"
)

// keyframeSize reports whether a VP8 or VP9 frame is a keyframe and, if
// so, its size in pixels (RFC 6386 §9.1; VP9 bitstream spec §6.2).
func keyframeSize(mime string, f []byte) (key bool, width, height int) {
	switch mime {
	case webrtc.MimeTypeVP8:
		if len(f) < 10 || f[0]&0x01 != 0 {
			return false, 0, 0
		}
		return true, int(binary.LittleEndian.Uint16(f[6:8]) & 0x3fff), int(binary.LittleEndian.Uint16(f[8:10]) & 0x3fff)
	case webrtc.MimeTypeVP9:
		return vp9KeyframeSize(f)
	}
	return false, 0, 0
}

type bits struct {
	b   []byte
	pos int
}

func (r *bits) read(n int) int {
	v := 0
	for range n {
		if r.pos/8 >= len(r.b) {
			return -1
		}
		v = v<<1 | int(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

func vp9KeyframeSize(f []byte) (bool, int, int) {
	r := &bits{b: f}
	if r.read(2) != 2 { // frame_marker
		return false, 0, 0
	}
	profile := r.read(1) | r.read(1)<<1
	if profile == 3 {
		r.read(1)
	}
	if r.read(1) == 1 || r.read(1) != 0 { // show_existing_frame, frame_type
		return false, 0, 0
	}
	r.read(2) // show_frame, error_resilient_mode
	if r.read(24) != 0x498342 {
		return false, 0, 0
	}
	if profile >= 2 {
		r.read(1) // ten_or_twelve_bit
	}
	if r.read(3) != 7 { // color_space != CS_RGB
		r.read(1) // color_range
		if profile == 1 || profile == 3 {
			r.read(4)
		}
	} else if profile == 1 || profile == 3 {
		r.read(1)
	}
	w, h := r.read(16), r.read(16)
	if w < 0 || h < 0 {
		return false, 0, 0
	}
	return true, w + 1, h + 1
}
