package viewer

import (
	"errors"
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

func TestSPSSize(t *testing.T) {
	// pic_order_cnt_type 2, one reference frame, 20×15 macroblocks,
	// frame_mbs_only, direct_8x8_inference, no cropping, then the RBSP
	// stop bit.
	sps := baseline().ue(2).ue(1).u(1, 0).ue(19).ue(14).u(1, 1).u(1, 1).u(1, 0).u(1, 1).b
	w, h, err := spsSize(sps)
	if err != nil || w != 320 || h != 240 {
		t.Fatalf("spsSize = %dx%d, %v; want 320x240", w, h, err)
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
		if w, h, err := spsSize(sps); !errors.Is(err, ErrBadSPS) {
			t.Errorf("%s: spsSize = %dx%d, %v; want ErrBadSPS", name, w, h, err)
		}
	}
}

// Any SPS gives a picture size or ErrBadSPS, and no panic or long loop.
func FuzzSPSSize(f *testing.F) {
	f.Add(baseline().ue(2).ue(1).u(1, 0).ue(19).ue(14).u(1, 1).u(1, 1).u(1, 0).u(1, 1).b)
	f.Add(baseline().ue(1).u(1, 0).ue(0).ue(0).ue(255).b)
	f.Add((&bitWriter{}).u(8, 0x67).u(8, 100).u(16, 0x001e).ue(0).ue(3).u(1, 0).ue(0).ue(0).u(1, 0).u(1, 1).u(12, 0xfff).b)
	f.Fuzz(func(t *testing.T, sps []byte) {
		w, h, err := spsSize(sps)
		if err != nil {
			if !errors.Is(err, ErrBadSPS) || w != 0 || h != 0 {
				t.Fatalf("spsSize = %dx%d, %v; want 0x0 with ErrBadSPS", w, h, err)
			}
			return
		}
		if w <= 0 || h <= 0 || w > maxMbs*16 || h > maxMbs*32 {
			t.Fatalf("spsSize = %dx%d, nil", w, h)
		}
	})
}
