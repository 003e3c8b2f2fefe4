package codec

// vp9SyncCode opens a VP9 keyframe's frame_sync_code (VP9 bitstream spec
// §6.2.1).
const vp9SyncCode = 0x498342

// VP9Size reports whether frame is a VP9 keyframe and, if so, its size in
// pixels, read from the uncompressed header (VP9 bitstream specification
// v0.6 §6.2: frame_marker 2, show_existing_frame 0, frame_type 0, the sync
// code, color_config, then frame_width_minus_1 and frame_height_minus_1
// in 16 bits each). A header that ends early is not a keyframe. For a
// superframe (Annex B) the first frame is read.
func VP9Size(frame []byte) (width, height int, key bool) {
	r := &bits{b: frame}
	if r.read(2) != 2 { // frame_marker
		return 0, 0, false
	}
	profile := r.read(1) | r.read(1)<<1
	if profile == 3 {
		r.read(1) // reserved_zero
	}
	if r.read(1) == 1 || r.read(1) != 0 { // show_existing_frame, frame_type
		return 0, 0, false
	}
	r.read(2) // show_frame, error_resilient_mode
	if r.read(24) != vp9SyncCode {
		return 0, 0, false
	}
	vp9ColorConfig(r, profile)
	w, h := r.read(16), r.read(16)
	if w < 0 || h < 0 {
		return 0, 0, false
	}
	return w + 1, h + 1, true
}

// vp9ColorConfig skips color_config (§6.2.2), whose length depends on the
// profile and color space.
func vp9ColorConfig(r *bits, profile int) {
	if profile >= 2 {
		r.read(1) // ten_or_twelve_bit
	}
	if r.read(3) != 7 { // color_space != CS_RGB
		r.read(1) // color_range
		if profile == 1 || profile == 3 {
			r.read(3) // subsampling_x, subsampling_y, reserved_zero
		}
	} else if profile == 1 || profile == 3 {
		r.read(1) // reserved_zero
	}
}
