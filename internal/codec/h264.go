package codec

import (
	"encoding/binary"
	"fmt"
)

// NALType is an H.264 NAL unit's nal_unit_type: the low 5 bits of its
// first byte (ITU-T H.264 §7.3.1).
type NALType uint8

// NAL unit types (ITU-T H.264 Table 7-1) the peers tell apart.
const (
	NALSlice  NALType = 1 // coded slice of a non-IDR picture
	NALSliceA NALType = 2 // coded slice data partition A
	NALIDR    NALType = 5 // coded slice of an IDR picture
	NALSPS    NALType = 7 // sequence parameter set
	NALPPS    NALType = 8 // picture parameter set
)

// NALTypeOf returns the type of a NAL unit (its header byte first), or 0,
// which Table 7-1 leaves unspecified, for an empty one.
func NALTypeOf(nal []byte) NALType {
	if len(nal) == 0 {
		return 0
	}
	return NALType(nal[0] & 0x1f)
}

// AVCNALs splits an access unit in AVC form, each NAL unit after its
// length in 4 big-endian bytes (ISO/IEC 14496-15 §5.3.4.2 with
// lengthSizeMinusOne 3), into its NAL units, which share the access
// unit's memory. It stops at a zero length or one past the end: the NAL
// units before it are returned, each at least a byte long.
func AVCNALs(au []byte) [][]byte {
	var nals [][]byte
	for len(au) >= 4 {
		n := binary.BigEndian.Uint32(au)
		if n == 0 || n > uint32(len(au)-4) {
			break
		}
		nals = append(nals, au[4:4+n])
		au = au[4+n:]
	}
	return nals
}

// AVCConfig returns the AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// §5.3.3.1) for one SPS and one PPS NAL unit, with 4-byte NAL unit
// lengths: what Matroska's V_MPEG4/ISO/AVC takes as CodecPrivate. It
// returns ErrNoParameterSets if sps is shorter than the 4 bytes that carry
// its profile and level or pps is empty, and ErrBadSPS or ErrBadPPS for
// one longer than the record's 16-bit length holds.
func AVCConfig(sps, pps []byte) ([]byte, error) {
	if len(sps) < 4 || len(pps) == 0 {
		return nil, ErrNoParameterSets
	}
	if len(sps) > 0xffff {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadSPS, len(sps))
	}
	if len(pps) > 0xffff {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadPPS, len(pps))
	}
	// configurationVersion, AVCProfileIndication, profile_compatibility,
	// AVCLevelIndication, lengthSizeMinusOne 3, one SPS.
	c := []byte{1, sps[1], sps[2], sps[3], 0xff, 0xe1}
	c = binary.BigEndian.AppendUint16(c, uint16(len(sps)))
	c = append(c, sps...)
	c = append(c, 1) // one PPS
	c = binary.BigEndian.AppendUint16(c, uint16(len(pps)))
	return append(c, pps...), nil
}

// h264Keyframe reads an access unit in AVC form: a keyframe if it holds an
// IDR picture, whose Picture then comes from the SPS and PPS it carries
// (the last of each, if several).
func h264Keyframe(au []byte) (Picture, bool, error) {
	idr := false
	var sps, pps []byte
	for _, n := range AVCNALs(au) {
		switch NALTypeOf(n) {
		case NALIDR:
			idr = true
		case NALSPS:
			sps = n
		case NALPPS:
			pps = n
		}
	}
	if !idr {
		return Picture{}, false, nil
	}
	config, err := AVCConfig(sps, pps)
	if err != nil {
		return Picture{}, false, err
	}
	w, h, err := SPSSize(sps)
	if err != nil {
		return Picture{}, false, err
	}
	return Picture{Width: w, Height: h, AVCConfig: config}, true, nil
}
