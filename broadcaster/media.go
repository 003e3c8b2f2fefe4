package broadcaster

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/protocol"
)

// openMedia opens Options.Video and Options.Audio: a track per file, the
// first video file's also served to direct watchers, and with several
// video files a simulcast layer per file. It returns ErrUnsupportedMedia
// for a file of the wrong kind, more video files than layers, or layers
// of different codecs.
func (b *Broadcaster) openMedia() error {
	var videos []string
	if b.opts.Video != "" {
		videos = strings.Split(b.opts.Video, ",")
	}
	// Their rids, lowest first, whose order the relay knows: n files
	// take the last n.
	rids := protocol.SimulcastRIDs()
	if len(videos) > len(rids) {
		return fmt.Errorf("%w: %d video files, at most %d layers", ErrUnsupportedMedia, len(videos), len(rids))
	}
	for i, path := range videos {
		t, err := openTrack(path, "video", b.opts.FPS)
		if err != nil {
			return err
		}
		b.tracks = append(b.tracks, t)
		if i == 0 {
			b.video = t
			if err := t.addLocal(""); err != nil {
				return err
			}
		} else if t.src.mimeType() != b.video.src.mimeType() {
			return fmt.Errorf("%w: layer %s is %s, the first %s", ErrUnsupportedMedia, path, t.src.mimeType(), b.video.src.mimeType())
		}
		if len(videos) > 1 {
			if err := t.addLocal(rids[len(rids)-1-i]); err != nil {
				return err
			}
			b.layers = append(b.layers, t)
		}
	}
	slices.Reverse(b.layers)
	if b.opts.Audio != "" {
		t, err := openTrack(b.opts.Audio, "audio", b.opts.FPS)
		if err != nil {
			return err
		}
		b.tracks = append(b.tracks, t)
		b.audio = t
		if err := t.addLocal(""); err != nil {
			return err
		}
	}
	return nil
}

// openTrack opens the media file path of kind ("video" or "audio"), an
// H.264 one paced at fps.
func openTrack(path, kind string, fps float64) (*track, error) {
	src, err := openSource(path, fps)
	if err != nil {
		return nil, err
	}
	if isVideo := src.mimeType() != webrtc.MimeTypeOpus; isVideo != (kind == "video") {
		_ = src.Close()
		return nil, fmt.Errorf("%w: %s is not %s", ErrUnsupportedMedia, path, kind)
	}
	return &track{src: src, kind: kind}, nil
}
