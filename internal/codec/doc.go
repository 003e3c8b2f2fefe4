// Package codec reads what the Go peers need from encoded video: whether a
// frame or an RTP payload is a keyframe a decoder can start from, a
// keyframe's picture size, and H.264's NAL units, sequence parameter set
// and decoder configuration record.
//
// The bytes come from a remote talker: every function takes hostile input
// without panicking, reads within bounds, and refuses values the standards
// do not allow.
package codec
