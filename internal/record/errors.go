package record

import "errors"

// ErrUnsupportedCodec is returned for a track or file the recording
// cannot hold: a codec it does not read, or a file extension that cannot
// hold the video's codec.
var ErrUnsupportedCodec = errors.New("unsupported codec for recording")
