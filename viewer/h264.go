package viewer

import (
	"encoding/binary"
	"errors"
)

// H.264 NAL unit types (ITU-T H.264 Table 7-1).
const (
	nalIDR = 5
	nalSPS = 7
	nalPPS = 8
)

// avcNALs splits a sample in AVC form (each NAL unit after a 4-byte
// big-endian length) into its NAL units.
func avcNALs(b []byte) [][]byte {
	var nals [][]byte
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint32(b))
		if n == 0 || n > len(b)-4 {
			break
		}
		nals = append(nals, b[4:4+n])
		b = b[4+n:]
	}
	return nals
}

// h264Keyframe reports whether an AVC sample holds an IDR picture, with its
// SPS and PPS if the sample carries them.
func h264Keyframe(b []byte) (key bool, sps, pps []byte) {
	for _, n := range avcNALs(b) {
		switch n[0] & 0x1f {
		case nalIDR:
			key = true
		case nalSPS:
			sps = n
		case nalPPS:
			pps = n
		}
	}
	return key, sps, pps
}

// avcConfig is the AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// §5.3.3.1) Matroska's V_MPEG4/ISO/AVC takes as CodecPrivate.
func avcConfig(sps, pps []byte) ([]byte, error) {
	if len(sps) < 4 || len(pps) == 0 {
		return nil, errors.New("no SPS/PPS before the first IDR picture")
	}
	c := []byte{1, sps[1], sps[2], sps[3], 0xff, 0xe1}
	c = binary.BigEndian.AppendUint16(c, uint16(len(sps)))
	c = append(c, sps...)
	c = append(c, 1)
	c = binary.BigEndian.AppendUint16(c, uint16(len(pps)))
	return append(c, pps...), nil
}

// expGolomb reads H.264's exp-Golomb codes (§9.1) from an RBSP.
type expGolomb struct{ bits }

func (r *expGolomb) ue() int {
	zeros := 0
	for r.read(1) == 0 {
		zeros++
		if zeros > 31 {
			return -1
		}
	}
	return 1<<zeros - 1 + r.read(zeros)
}

func (r *expGolomb) se() int {
	v := r.ue()
	if v%2 == 0 {
		return -v / 2
	}
	return (v + 1) / 2
}

// spsSize returns the picture size an SPS declares (§7.3.2.1.1), or zeros.
func spsSize(sps []byte) (width, height int) {
	// Drop emulation prevention bytes (00 00 03 → 00 00).
	rbsp := make([]byte, 0, len(sps))
	for i := 0; i < len(sps); i++ {
		if i >= 2 && sps[i] == 3 && sps[i-1] == 0 && sps[i-2] == 0 {
			continue
		}
		rbsp = append(rbsp, sps[i])
	}
	if len(rbsp) < 4 {
		return 0, 0
	}
	r := &expGolomb{bits{b: rbsp[1:]}}
	profile := r.read(8)
	r.read(16) // constraint flags, level
	r.ue()     // seq_parameter_set_id
	chroma := 1
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		if chroma = r.ue(); chroma == 3 {
			r.read(1)
		}
		r.ue()
		r.ue()
		r.read(1)
		if r.read(1) == 1 { // seq_scaling_matrix_present_flag
			lists := 8
			if chroma == 3 {
				lists = 12
			}
			for i := range lists {
				if r.read(1) == 1 {
					size, last, next := 16, 8, 8
					if i >= 6 {
						size = 64
					}
					for range size {
						if next != 0 {
							next = (last + r.se() + 256) % 256
						}
						if next != 0 {
							last = next
						}
					}
				}
			}
		}
	}
	r.ue()          // log2_max_frame_num_minus4
	switch r.ue() { // pic_order_cnt_type
	case 0:
		r.ue()
	case 1:
		r.read(1)
		r.se()
		r.se()
		for n := r.ue(); n > 0; n-- {
			r.se()
		}
	}
	r.ue()    // max_num_ref_frames
	r.read(1) // gaps_in_frame_num_value_allowed_flag
	w := r.ue() + 1
	h := r.ue() + 1
	frameMbsOnly := r.read(1)
	if frameMbsOnly == 0 {
		r.read(1)
	}
	r.read(1) // direct_8x8_inference_flag
	width, height = w*16, h*16*(2-frameMbsOnly)
	if r.read(1) == 1 { // frame_cropping_flag
		cx, cy := 2, 2*(2-frameMbsOnly)
		if chroma == 0 || chroma == 3 {
			cx, cy = 1, 2-frameMbsOnly
		}
		left, right, top, bottom := r.ue(), r.ue(), r.ue(), r.ue()
		width -= cx * (left + right)
		height -= cy * (top + bottom)
	}
	if width <= 0 || height <= 0 {
		return 0, 0
	}
	return width, height
}
