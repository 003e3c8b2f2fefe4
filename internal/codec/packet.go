package codec

import (
	"encoding/binary"
	"strings"
)

// KeyframePacket reports whether an RTP payload of the codec mime names (a
// media type such as "video/VP8", compared case-insensitively) begins a
// keyframe, so that a watcher sent the stream from this packet on can
// decode it; payload is the RTP packet's payload, header and padding off.
//   - VP8 (RFC 7741 §4.2): the first packet of a frame (S set, partition
//     index 0) whose frame Keyframe takes as a keyframe (see VP8Size).
//   - VP9 (RFC 9628 §4.2): the first packet of a layer frame (B set)
//     without inter-picture prediction (P clear), of the base spatial
//     layer (SID 0 if given), whose frame VP9Size takes as a keyframe.
//   - H.264 (RFC 6184 §5.6-5.8): a single NAL unit packet, a STAP-A
//     holding, or the first FU-A fragment of, an SPS or an IDR slice.
//
// A payload cut short, or of any other codec or packetization, is not.
func KeyframePacket(mime string, payload []byte) bool {
	switch {
	case strings.EqualFold(mime, mimeVP8):
		return vp8KeyPacket(payload)
	case strings.EqualFold(mime, mimeVP9):
		return vp9KeyPacket(payload)
	case strings.EqualFold(mime, mimeH264):
		return h264KeyPacket(payload)
	}
	return false
}

// vp8KeyPacket reads the VP8 payload descriptor: X R N S R PID, then, if
// X, I L T K and the fields they announce.
func vp8KeyPacket(p []byte) bool {
	if len(p) == 0 || p[0]&0x10 == 0 || p[0]&0x07 != 0 { // S, PID
		return false
	}
	n := 1
	if p[0]&0x80 != 0 { // X
		if len(p) < 3 {
			return false
		}
		x := p[1]
		n = 2
		if x&0x80 != 0 { // I: PictureID, 15 bits if M
			n += 1 + int(p[2]>>7)
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			n++
		}
		if x&0x30 != 0 { // T or K: TID, Y, KEYIDX
			n++
		}
	}
	if n > len(p) {
		return false
	}
	_, _, key := VP8Size(p[n:])
	return key
}

// vp9KeyPacket reads the VP9 payload descriptor: I P L F B E V Z, then the
// picture ID, layer indices and scalability structure they announce (no
// reference indices: P is clear).
func vp9KeyPacket(p []byte) bool {
	if len(p) == 0 || p[0]&0x08 == 0 || p[0]&0x40 != 0 { // B, P
		return false
	}
	flags, n := p[0], 1
	if flags&0x80 != 0 { // I: picture ID, 15 bits if M
		if len(p) <= n {
			return false
		}
		n += 1 + int(p[n]>>7)
	}
	if flags&0x20 != 0 { // L: TID U SID D
		if len(p) <= n || p[n]>>1&0x07 != 0 {
			return false
		}
		n++
		if flags&0x10 == 0 { // TL0PICIDX, in non-flexible mode
			n++
		}
	}
	if flags&0x02 != 0 && n < len(p) { // V
		n += vp9SSLen(p[n:])
	}
	if n > len(p) {
		return false
	}
	_, _, key := VP9Size(p[n:])
	return key
}

// vp9SSLen returns the length of the scalability structure at the start
// of ss (RFC 9628 §4.2.1): N_S Y G, the spatial layers' sizes if Y, the
// picture group if G. It may be longer than ss.
func vp9SSLen(ss []byte) int {
	n := 1
	if ss[0]&0x10 != 0 { // Y: WIDTH and HEIGHT per spatial layer
		n += 4 * (int(ss[0]>>5) + 1)
	}
	if ss[0]&0x08 == 0 { // G
		return n
	}
	if n >= len(ss) {
		return n + 1
	}
	pictures := int(ss[n])
	n++
	for range pictures {
		if n >= len(ss) {
			return n + 1
		}
		n += 1 + int(ss[n]>>2&0x03) // TID U R, then R P_DIFFs
	}
	return n
}

// RTP payload types of H.264 packets that aggregate or fragment NAL units
// (RFC 6184 Table 1).
const (
	stapA NALType = 24
	fuA   NALType = 28
)

// h264KeyPacket reads an H.264 payload in packetization mode 0 or 1.
func h264KeyPacket(p []byte) bool {
	switch t := NALTypeOf(p); t {
	case stapA:
		for q := p[1:]; len(q) >= 2; {
			size := int(binary.BigEndian.Uint16(q))
			q = q[2:]
			if size == 0 || size > len(q) {
				return false
			}
			if startsKeyframe(NALTypeOf(q[:size])) {
				return true
			}
			q = q[size:]
		}
		return false
	case fuA:
		return len(p) >= 2 && p[1]&0x80 != 0 && startsKeyframe(NALType(p[1]&0x1f)) // S, type
	default:
		return startsKeyframe(t)
	}
}

// startsKeyframe tells whether a NAL unit of type t begins a keyframe: an
// IDR picture, or the SPS that comes before one.
func startsKeyframe(t NALType) bool {
	return t == NALIDR || t == NALSPS
}
