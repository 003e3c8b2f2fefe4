package codec

import "fmt"

// expGolomb reads H.264's fixed-length and exp-Golomb codes (ITU-T H.264
// §7.2, §9.1) from an RBSP. A read past the end, or a code longer than 32
// bits, sets err to ErrBadSPS.
type expGolomb struct {
	bits
	err error
}

// u reads u(n).
func (r *expGolomb) u(n int) int {
	v := r.read(n)
	if v < 0 {
		r.err = fmt.Errorf("%w: ends early", ErrBadSPS)
		return 0
	}
	return v
}

// ue reads ue(v).
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

// se reads se(v).
func (r *expGolomb) se() int {
	v := r.ue()
	if v%2 == 0 {
		return -v / 2
	}
	return (v + 1) / 2
}
