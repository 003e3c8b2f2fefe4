package relay

// firstExt is the extended sequence number given to an upstream's first
// packet: one wrap above 0, so that packets reordered before the first one
// still have a positive extended number.
const firstExt = 1 << 16

// unwrapSeq returns the extended (64-bit, never wrapping) number of the
// 16-bit sequence number seq, taken as the one nearest to the extended
// number ref: within 32767 behind or 32768 ahead (RFC 3550 §A.1).
func unwrapSeq(seq uint16, ref uint64) uint64 {
	return ref + uint64(int64(int16(seq-uint16(ref))))
}
