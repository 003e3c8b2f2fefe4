// Package rtpseq counts one RTP stream's packets by sequence number, per
// RFC 3550 §A.1 (extended sequence numbers) and §A.3 (packets lost).
package rtpseq

// Counter is one stream's count; the zero Counter is empty. Not safe for
// concurrent use: it belongs to the stream's reader.
type Counter struct {
	started        bool
	first, highest uint32 // extended sequence numbers
	received       int64
}

// Push counts a packet with sequence number seq; a late or repeated one
// counts as received without moving the highest.
func (c *Counter) Push(seq uint16) {
	c.received++
	if !c.started {
		c.started, c.first, c.highest = true, uint32(seq), uint32(seq)
		return
	}
	ext := c.highest&^0xffff | uint32(seq)
	switch d := int32(ext - c.highest); {
	case d < -0x8000:
		ext += 0x10000 // wrapped forward
	case d > 0x8000:
		ext -= 0x10000 // late packet from before a wrap
	}
	if ext > c.highest {
		c.highest = ext
	}
}

// Received is the packets pushed, repeats included.
func (c *Counter) Received() int64 { return c.received }

// Expected is the span of sequence numbers seen, first to highest: 0
// before the first packet.
func (c *Counter) Expected() int64 {
	if !c.started {
		return 0
	}
	return int64(c.highest-c.first) + 1
}

// Lost is Expected less Received, never below 0 (repeats can outnumber
// losses).
func (c *Counter) Lost() int64 {
	return max(c.Expected()-c.received, 0)
}
