package codec

// bits reads a byte slice bit by bit, most significant bit first.
type bits struct {
	b   []byte
	pos int // in bits
}

// read returns the next n bits (n ≤ 32) as an unsigned number, or -1 if
// fewer than n are left.
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
