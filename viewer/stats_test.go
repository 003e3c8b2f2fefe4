package viewer

import "testing"

func TestSeqTracker(t *testing.T) {
	tests := []struct {
		name string
		seqs []uint16
		lost int64
	}{
		{"none lost", []uint16{10, 11, 12, 13}, 0},
		{"a gap", []uint16{10, 11, 14, 15}, 2},
		{"reordered", []uint16{10, 12, 11, 13}, 0},
		{"across the wrap", []uint16{65534, 65535, 0, 2}, 1},
		{"late packet from before the wrap", []uint16{65535, 1, 0}, 0},
		{"duplicates count as received", []uint16{1, 2, 2, 3}, 0},
	}
	for _, tt := range tests {
		var s seqTracker
		for _, q := range tt.seqs {
			s.push(q)
		}
		if got := s.lost(); got != tt.lost {
			t.Errorf("%s: lost %d, want %d", tt.name, got, tt.lost)
		}
	}
}
