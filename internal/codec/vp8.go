package codec

import "encoding/binary"

// VP8Size reports whether frame is a VP8 keyframe and, if so, its size in
// pixels: bit 0 of the 3-byte frame tag is 0 for a keyframe, whose 14-bit
// width and height follow the 3-byte start code, little-endian (RFC 6386
// §9.1, §19.1). A frame shorter than those 10 bytes is not a keyframe.
func VP8Size(frame []byte) (width, height int, key bool) {
	if len(frame) < 10 || frame[0]&0x01 != 0 {
		return 0, 0, false
	}
	width = int(binary.LittleEndian.Uint16(frame[6:8]) & 0x3fff)
	height = int(binary.LittleEndian.Uint16(frame[8:10]) & 0x3fff)
	return width, height, true
}
