package viewer

import (
	"encoding/binary"
	"errors"
	"fmt"
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

// expGolomb reads H.264's exp-Golomb codes (§9.1) from an RBSP. A read
// past the end, or a code longer than 32 bits, sets err to ErrBadSPS and
// reads as zero.
type expGolomb struct {
	bits
	err error
}

func (r *expGolomb) u(n int) int {
	v := r.read(n)
	if v < 0 {
		r.err = fmt.Errorf("%w: ends early", ErrBadSPS)
		return 0
	}
	return v
}

func (r *expGolomb) ue() int {
	zeros := 0
	for r.err == nil && r.u(1) == 0 {
		if zeros++; zeros > 31 {
			r.err = fmt.Errorf("%w: exp-Golomb code over 32 bits", ErrBadSPS)
		}
	}
	if r.err != nil {
		return 0
	}
	return 1<<zeros - 1 + r.u(zeros)
}

// ueMax reads a ue(v) that the standard bounds by limit; a larger one sets
// err and reads as zero.
func (r *expGolomb) ueMax(name string, limit int) int {
	v := r.ue()
	if v > limit {
		r.err = fmt.Errorf("%w: %s %d over %d", ErrBadSPS, name, v, limit)
		return 0
	}
	return v
}

func (r *expGolomb) se() int {
	v := r.ue()
	if v%2 == 0 {
		return -v / 2
	}
	return (v + 1) / 2
}

// maxMbs bounds an SPS's width and height in 16-pixel macroblocks: 65536
// pixels, beyond any level of H.264 (Table A-1).
const maxMbs = 4096

// spsSize returns the picture size in pixels an SPS NAL unit declares
// (§7.3.2.1.1). It returns ErrBadSPS for an SPS that ends early, holds a
// value out of the range §7.4.2.1.1 allows, or declares no picture.
func spsSize(sps []byte) (width, height int, err error) {
	// Drop emulation prevention bytes (00 00 03 → 00 00).
	rbsp := make([]byte, 0, len(sps))
	for i := 0; i < len(sps); i++ {
		if i >= 2 && sps[i] == 3 && sps[i-1] == 0 && sps[i-2] == 0 {
			continue
		}
		rbsp = append(rbsp, sps[i])
	}
	if len(rbsp) < 4 {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrBadSPS, len(rbsp))
	}
	r := &expGolomb{bits: bits{b: rbsp[1:]}}
	profile := r.u(8)
	r.u(16) // constraint flags, level
	r.ueMax("seq_parameter_set_id", 31)
	chroma := 1
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		if chroma = r.ueMax("chroma_format_idc", 3); chroma == 3 {
			r.u(1)
		}
		r.ueMax("bit_depth_luma_minus8", 6)
		r.ueMax("bit_depth_chroma_minus8", 6)
		r.u(1)
		if r.u(1) == 1 { // seq_scaling_matrix_present_flag
			lists := 8
			if chroma == 3 {
				lists = 12
			}
			for i := 0; i < lists && r.err == nil; i++ {
				if r.u(1) == 1 {
					size, last, next := 16, 8, 8
					if i >= 6 {
						size = 64
					}
					for j := 0; j < size && r.err == nil; j++ {
						if next != 0 {
							next = ((last+r.se())%256 + 256) % 256
						}
						if next != 0 {
							last = next
						}
					}
				}
			}
		}
	}
	r.ueMax("log2_max_frame_num_minus4", 12)
	switch r.ueMax("pic_order_cnt_type", 2) {
	case 0:
		r.ueMax("log2_max_pic_order_cnt_lsb_minus4", 12)
	case 1:
		r.u(1)
		r.se()
		r.se()
		for n := r.ueMax("num_ref_frames_in_pic_order_cnt_cycle", 255); n > 0 && r.err == nil; n-- {
			r.se()
		}
	}
	r.ueMax("max_num_ref_frames", 16)
	r.u(1) // gaps_in_frame_num_value_allowed_flag
	w := r.ueMax("pic_width_in_mbs_minus1", maxMbs-1) + 1
	h := r.ueMax("pic_height_in_map_units_minus1", maxMbs-1) + 1
	frameMbsOnly := r.u(1)
	if frameMbsOnly == 0 {
		r.u(1)
	}
	r.u(1) // direct_8x8_inference_flag
	width, height = w*16, h*16*(2-frameMbsOnly)
	if r.u(1) == 1 { // frame_cropping_flag
		cx, cy := 2, 2*(2-frameMbsOnly)
		if chroma == 0 || chroma == 3 {
			cx, cy = 1, 2-frameMbsOnly
		}
		limit := maxMbs * 16
		left, right := r.ueMax("frame_crop_left_offset", limit), r.ueMax("frame_crop_right_offset", limit)
		top, bottom := r.ueMax("frame_crop_top_offset", limit), r.ueMax("frame_crop_bottom_offset", limit)
		width -= cx * (left + right)
		height -= cy * (top + bottom)
	}
	if r.err != nil {
		return 0, 0, r.err
	}
	if width <= 0 || height <= 0 {
		return 0, 0, fmt.Errorf("%w: cropped to %dx%d", ErrBadSPS, width, height)
	}
	return width, height, nil
}
