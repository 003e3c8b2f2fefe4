package codec

import "strings"

// Media types of the video codecs, the same strings as pion's
// webrtc.MimeTypeVP8, MimeTypeVP9 and MimeTypeH264 (RFC 7741, RFC 9628,
// RFC 6184).
const (
	mimeVP8  = "video/VP8"
	mimeVP9  = "video/VP9"
	mimeH264 = "video/H264"
)

// Picture is what a decoder needs to start from a keyframe.
type Picture struct {
	Width, Height int // in pixels
	// AVCConfig is, for H.264, the AVCDecoderConfigurationRecord built
	// from the keyframe's SPS and PPS (see AVCConfig); nil otherwise.
	AVCConfig []byte
}

// Keyframe reports whether frame, one encoded frame of the codec mime
// names (a media type such as "video/VP8", compared case-insensitively),
// is a keyframe a decoder can start from, and if so its Picture:
//   - VP8: see VP8Size;
//   - VP9: see VP9Size;
//   - H.264: an access unit in AVC form (see AVCNALs) holding an IDR
//     picture and the SPS and PPS it needs. Such a keyframe without them
//     returns ErrNoParameterSets, with an SPS that does not parse
//     ErrBadSPS (see AVCConfig, SPSSize).
//
// Any other codec has no keyframes here. When err is not nil, key is
// false.
func Keyframe(mime string, frame []byte) (p Picture, key bool, err error) {
	switch {
	case strings.EqualFold(mime, mimeVP8):
		p.Width, p.Height, key = VP8Size(frame)
	case strings.EqualFold(mime, mimeVP9):
		p.Width, p.Height, key = VP9Size(frame)
	case strings.EqualFold(mime, mimeH264):
		return h264Keyframe(frame)
	}
	return p, key, nil
}
