package codec

import "fmt"

// maxMbs bounds an SPS's width and height in 16-pixel macroblocks: 65536
// pixels, beyond any level of H.264 (Table A-1).
const maxMbs = 4096

// SPSSize returns the picture size in pixels an SPS NAL unit (header byte
// first, emulation prevention bytes in place) declares, after cropping
// (ITU-T H.264 §7.3.2.1.1): at most 65536 wide and 131072 high. It returns
// ErrBadSPS for an SPS that ends early, holds a value out of the range
// §7.4.2.1.1 allows, or declares no picture.
func SPSSize(sps []byte) (width, height int, err error) {
	rbsp := unescapeRBSP(sps)
	if len(rbsp) < 4 {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrBadSPS, len(rbsp))
	}
	r := &expGolomb{bits: bits{b: rbsp[1:]}}
	profile := r.u(8)
	r.u(16) // constraint flags, level
	r.ueMax("seq_parameter_set_id", 31)
	chroma := spsChroma(r, profile)
	r.ueMax("log2_max_frame_num_minus4", 12)
	spsPicOrderCnt(r)
	r.ueMax("max_num_ref_frames", 16)
	r.u(1) // gaps_in_frame_num_value_allowed_flag
	w := r.ueMax("pic_width_in_mbs_minus1", maxMbs-1) + 1
	h := r.ueMax("pic_height_in_map_units_minus1", maxMbs-1) + 1
	frameMbsOnly := r.u(1)
	if frameMbsOnly == 0 {
		r.u(1) // mb_adaptive_frame_field_flag
	}
	r.u(1) // direct_8x8_inference_flag
	width, height = w*16, h*16*(2-frameMbsOnly)
	if r.u(1) == 1 { // frame_cropping_flag
		dx, dy := spsCrop(r, chroma, frameMbsOnly)
		width, height = width-dx, height-dy
	}
	if r.err != nil {
		return 0, 0, r.err
	}
	if width <= 0 || height <= 0 {
		return 0, 0, fmt.Errorf("%w: cropped to %dx%d", ErrBadSPS, width, height)
	}
	return width, height, nil
}

// unescapeRBSP drops a NAL unit's emulation prevention bytes (00 00 03 →
// 00 00, §7.4.1) into a new slice.
func unescapeRBSP(nal []byte) []byte {
	rbsp := make([]byte, 0, len(nal))
	for i := 0; i < len(nal); i++ {
		if i >= 2 && nal[i] == 3 && nal[i-1] == 0 && nal[i-2] == 0 {
			continue
		}
		rbsp = append(rbsp, nal[i])
	}
	return rbsp
}

// spsChroma reads the fields the High profiles add to an SPS and returns
// chroma_format_idc: 1 (4:2:0) for the other profiles.
func spsChroma(r *expGolomb, profile int) int {
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
	default:
		return 1
	}
	chroma := r.ueMax("chroma_format_idc", 3)
	if chroma == 3 {
		r.u(1) // separate_colour_plane_flag
	}
	r.ueMax("bit_depth_luma_minus8", 6)
	r.ueMax("bit_depth_chroma_minus8", 6)
	r.u(1)           // qpprime_y_zero_transform_bypass_flag
	if r.u(1) == 1 { // seq_scaling_matrix_present_flag
		lists := 8
		if chroma == 3 {
			lists = 12
		}
		for i := 0; i < lists && r.err == nil; i++ {
			if r.u(1) == 1 { // seq_scaling_list_present_flag
				size := 16
				if i >= 6 {
					size = 64
				}
				skipScalingList(r, size)
			}
		}
	}
	return chroma
}

// skipScalingList reads a scaling_list (§7.3.2.1.1.1) of size entries.
func skipScalingList(r *expGolomb, size int) {
	last, next := 8, 8
	for j := 0; j < size && r.err == nil; j++ {
		if next != 0 {
			next = ((last+r.se())%256 + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}

// spsPicOrderCnt reads pic_order_cnt_type and the fields it brings.
func spsPicOrderCnt(r *expGolomb) {
	switch r.ueMax("pic_order_cnt_type", 2) {
	case 0:
		r.ueMax("log2_max_pic_order_cnt_lsb_minus4", 12)
	case 1:
		r.u(1) // delta_pic_order_always_zero_flag
		r.se() // offset_for_non_ref_pic
		r.se() // offset_for_top_to_bottom_field
		for n := r.ueMax("num_ref_frames_in_pic_order_cnt_cycle", 255); n > 0 && r.err == nil; n-- {
			r.se() // offset_for_ref_frame
		}
	}
}

// spsCrop reads the frame cropping offsets and returns the pixels they
// take off the width and the height (§7.4.2.1.1, Table 6-1).
func spsCrop(r *expGolomb, chroma, frameMbsOnly int) (dx, dy int) {
	cx, cy := 2, 2*(2-frameMbsOnly)
	if chroma == 0 || chroma == 3 {
		cx, cy = 1, 2-frameMbsOnly
	}
	limit := maxMbs * 16
	left, right := r.ueMax("frame_crop_left_offset", limit), r.ueMax("frame_crop_right_offset", limit)
	top, bottom := r.ueMax("frame_crop_top_offset", limit), r.ueMax("frame_crop_bottom_offset", limit)
	return cx * (left + right), cy * (top + bottom)
}
