package codec

import "errors"

var (
	// ErrBadSPS is returned for an H.264 sequence parameter set that ends
	// early, holds a value out of its range or declares no picture: its
	// keyframe is not taken.
	ErrBadSPS = errors.New("bad H.264 SPS")
	// ErrNoParameterSets is returned for an H.264 IDR picture that does not
	// carry the SPS and PPS a decoder configuration record is built from.
	ErrNoParameterSets = errors.New("no H.264 SPS/PPS with the IDR picture")
	// ErrBadPPS is returned for an H.264 picture parameter set too long for
	// a decoder configuration record.
	ErrBadPPS = errors.New("bad H.264 PPS")
)
