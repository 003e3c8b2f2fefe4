package rtpseq

import "testing"

func TestCounter(t *testing.T) {
	tests := []struct {
		name               string
		seqs               []uint16
		expected, received int64
		lost               int64
	}{
		{"empty", nil, 0, 0, 0},
		{"none lost", []uint16{10, 11, 12, 13}, 4, 4, 0},
		{"a gap", []uint16{10, 11, 14, 15}, 6, 4, 2},
		{"reordered", []uint16{10, 12, 11, 13}, 4, 4, 0},
		{"across the wrap", []uint16{65534, 65535, 0, 2}, 5, 4, 1},
		{"late packet from before the wrap", []uint16{65535, 1, 0}, 3, 3, 0},
		{"late and lost across the wrap", []uint16{65533, 65534, 1, 0, 3}, 7, 5, 2},
		{"duplicates count as received", []uint16{1, 2, 2, 3}, 3, 4, 0},
	}
	for _, tt := range tests {
		var c Counter
		for _, q := range tt.seqs {
			c.Push(q)
		}
		if c.Expected() != tt.expected || c.Received() != tt.received || c.Lost() != tt.lost {
			t.Errorf("%s: expected %d, received %d, lost %d; want %d, %d, %d", tt.name,
				c.Expected(), c.Received(), c.Lost(), tt.expected, tt.received, tt.lost)
		}
	}
}
