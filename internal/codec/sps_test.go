package codec

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// bitWriter builds an SPS bit by bit.
type bitWriter struct {
	b []byte
	n int
}

func (w *bitWriter) u(n int, v uint64) *bitWriter {
	for i := n - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (7 - w.n%8)
		w.n++
	}
	return w
}

func (w *bitWriter) ue(v uint64) *bitWriter {
	zeros := 0
	for (v+1)>>(zeros+1) != 0 {
		zeros++
	}
	return w.u(zeros, 0).u(zeros+1, v+1)
}

// baseline is the start of a Baseline-profile SPS: NAL header, profile,
// constraint flags and level, seq_parameter_set_id, log2_max_frame_num.
func baseline() *bitWriter {
	return (&bitWriter{}).u(8, 0x67).u(8, 66).u(16, 0x001e).ue(0).ue(0)
}

// sps320x240 is a Baseline SPS: pic_order_cnt_type 2, one reference
// frame, 20×15 macroblocks, frame_mbs_only, direct_8x8_inference, no
// cropping, then the RBSP stop bit.
func sps320x240() []byte {
	return baseline().ue(2).ue(1).u(1, 0).ue(19).ue(14).u(1, 1).u(1, 1).u(1, 0).u(1, 1).b
}

// spsHigh is a High-profile SPS with a scaling matrix of one list and
// field coding (frame_mbs_only 0), cropped: 1920×1080 from 120×34 map
// units of 2×16 rows.
func spsHigh() []byte {
	w := (&bitWriter{}).u(8, 0x67).u(8, 100).u(16, 0x0028).ue(0)
	w.ue(1).ue(0).ue(0).u(1, 0) // 4:2:0, 8-bit, no bypass
	w.u(1, 1).u(1, 1)           // scaling matrix, list 0 present
	for range 16 {
		w.ue(1) // delta_scale +1
	}
	w.u(7, 0)                                                  // lists 1-7 absent
	w.ue(0).ue(0).ue(0).ue(4).u(1, 0)                          // frame_num, poc 0, lsb, 4 refs, no gaps
	w.ue(119).ue(33).u(1, 0).u(1, 0).u(1, 1)                   // 120×34, fields, no mbaff, direct_8x8
	return w.u(1, 1).ue(0).ue(0).ue(0).ue(2).u(1, 0).u(1, 1).b // crop 2 (×4) rows off the bottom
}

func TestSPSSize(t *testing.T) {
	for name, tt := range map[string]struct {
		sps  []byte
		w, h int
	}{
		"baseline 320x240": {sps320x240(), 320, 240},
		"high 1920x1080":   {spsHigh(), 1920, 1080},
	} {
		w, h, err := SPSSize(tt.sps)
		if err != nil || w != tt.w || h != tt.h {
			t.Errorf("%s: SPSSize = %dx%d, %v; want %dx%d", name, w, h, err, tt.w, tt.h)
		}
	}
}

// A crafted SPS asks for 2³²-2 offsets in its picture order count cycle
// (§7.4.2.1.1 allows 255): it is refused, not looped over.
func TestSPSSizeRefusesOutOfRange(t *testing.T) {
	tests := map[string][]byte{
		"poc cycle of 2^32-2":       baseline().ue(1).u(1, 0).ue(0).ue(0).ue(1<<32 - 2).b,
		"poc cycle of 256":          baseline().ue(1).u(1, 0).ue(0).ue(0).ue(256).b,
		"code over 32 bits":         baseline().u(40, 0).u(8, 0xff).b,
		"ends early":                baseline().ue(2).ue(1).b,
		"width of 5000 macroblocks": baseline().ue(2).ue(1).u(1, 0).ue(4999).ue(14).u(1, 1).u(1, 1).u(1, 0).b,
		"cropped to nothing":        baseline().ue(2).ue(1).u(1, 0).ue(0).ue(0).u(1, 1).u(1, 1).u(1, 1).ue(8).ue(0).ue(0).ue(0).u(8, 0x80).b,
		"pic_order_cnt_type 3":      baseline().ue(3).ue(1).u(1, 0).ue(19).ue(14).u(1, 1).u(1, 1).u(1, 0).u(1, 1).b,
		"too short":                 {0x67, 66},
	}
	for name, sps := range tests {
		if w, h, err := SPSSize(sps); !errors.Is(err, ErrBadSPS) {
			t.Errorf("%s: SPSSize = %dx%d, %v; want ErrBadSPS", name, w, h, err)
		}
	}
}

// Emulation prevention bytes are not part of the SPS's fields.
func TestSPSSizeUnescapes(t *testing.T) {
	// 4096×4096 macroblocks write 00 00 02, which the encoder escapes as
	// 00 00 03 02 (ITU-T H.264 §7.4.1).
	raw := baseline().ue(2).ue(1).u(1, 0).ue(4095).ue(4095).u(1, 1).u(1, 1).u(1, 0).u(1, 1).b
	i := bytes.Index(raw, []byte{0, 0, 2})
	if i < 0 {
		t.Fatalf("test SPS %x needs no escape", raw)
	}
	esc := slices.Concat(raw[:i+2], []byte{3}, raw[i+2:])
	if w, h, err := SPSSize(esc); err != nil || w != 65536 || h != 65536 {
		t.Fatalf("SPSSize(%x) = %dx%d, %v; want 65536x65536", esc, w, h, err)
	}
}
