package broadcaster

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/broadcast-service/broadcast/internal/codec"
)

// frame is one encoded frame of a source: its data, its duration until the
// next frame, and whether a decoder can start from it.
type frame struct {
	data     []byte
	duration time.Duration
	key      bool
}

// source reads frames from a media file, from the start again at its end.
type source interface {
	next() (frame, error)
	mimeType() string
	io.Closer
}

// openSource opens path as the kind of media its name and content say:
// .ivf (VP8, VP9), .h264/.264 (H.264 Annex B, paced at fps) or .ogg/.opus
// (Opus). It returns ErrUnsupportedMedia for anything else.
func openSource(path string, fps float64) (source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open media: %w", err)
	}
	var src source
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ivf":
		src, err = newIVFSource(f)
	case ".h264", ".264":
		src, err = newH264Source(f, fps)
	case ".ogg", ".opus":
		src, err = newOggSource(f)
	default:
		err = fmt.Errorf("%w: %s (want .ivf, .h264 or .ogg)", ErrUnsupportedMedia, filepath.Base(path))
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return src, nil
}

// rewind seeks f to the start for the next loop.
func rewind(f *os.File) error {
	_, err := f.Seek(0, io.SeekStart)
	return err
}

type ivfSource struct {
	f      *os.File
	r      *ivfreader.IVFReader
	mime   string
	tick   time.Duration // one timebase unit
	scale  float64       // pion's frame Timestamp is pts × scale
	last   uint64        // Timestamp of the frame read last
	frames int           // frames read in this loop
}

func newIVFSource(f *os.File) (*ivfSource, error) {
	r, h, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("%w: IVF: %v", ErrUnsupportedMedia, err)
	}
	s := &ivfSource{
		f: f, r: r,
		tick:  time.Second * time.Duration(h.TimebaseNumerator) / time.Duration(h.TimebaseDenominator),
		scale: float64(h.TimebaseDenominator) / float64(h.TimebaseNumerator),
	}
	switch h.FourCC {
	case "VP80":
		s.mime = webrtc.MimeTypeVP8
	case "VP90":
		s.mime = webrtc.MimeTypeVP9
	default:
		return nil, fmt.Errorf("%w: IVF with %q (want VP80 or VP90)", ErrUnsupportedMedia, h.FourCC)
	}
	return s, nil
}

func (s *ivfSource) mimeType() string { return s.mime }
func (s *ivfSource) Close() error     { return s.f.Close() }

func (s *ivfSource) next() (frame, error) {
	data, h, err := s.r.ParseNextFrame()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if s.frames == 0 {
			return frame{}, fmt.Errorf("%w: IVF without frames", ErrUnsupportedMedia)
		}
		if err := rewind(s.f); err != nil {
			return frame{}, err
		}
		r, _, err := ivfreader.NewWith(s.f)
		if err != nil {
			return frame{}, err
		}
		s.r, s.frames, s.last = r, 0, 0
		return s.next()
	}
	if err != nil {
		return frame{}, fmt.Errorf("read IVF frame: %w", err)
	}
	// The duration is the gap since the previous frame: exact for
	// constant frame rates, which is what IVF files hold.
	d := s.tick
	if s.frames > 0 && h.Timestamp > s.last {
		d = time.Duration(float64(s.tick) * float64(h.Timestamp-s.last) / s.scale)
	}
	s.last = h.Timestamp
	s.frames++
	_, key, _ := codec.Keyframe(s.mime, data) // VP8 and VP9 only: no error
	return frame{data: data, duration: d, key: key}, nil
}

// h264Source groups NAL units into access units: parameter sets and SEI go
// with the picture that follows them. Annex B has no timestamps, so frames
// are paced at a fixed rate.
type h264Source struct {
	f        *os.File
	r        *h264reader.H264Reader
	duration time.Duration
	frames   int
}

func newH264Source(f *os.File, fps float64) (*h264Source, error) {
	if fps <= 0 {
		fps = 30
	}
	r, err := h264reader.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%w: H.264: %v", ErrUnsupportedMedia, err)
	}
	return &h264Source{f: f, r: r, duration: time.Duration(float64(time.Second) / fps)}, nil
}

func (s *h264Source) mimeType() string { return webrtc.MimeTypeH264 }
func (s *h264Source) Close() error     { return s.f.Close() }

func (s *h264Source) next() (frame, error) {
	var au []byte
	key := false
	for {
		nal, err := s.r.NextNAL()
		if errors.Is(err, io.EOF) {
			if s.frames == 0 && len(au) == 0 {
				return frame{}, fmt.Errorf("%w: H.264 file without pictures", ErrUnsupportedMedia)
			}
			if err := rewind(s.f); err != nil {
				return frame{}, err
			}
			if s.r, err = h264reader.NewReader(s.f); err != nil {
				return frame{}, err
			}
			s.frames = 0
			continue
		}
		if err != nil {
			return frame{}, fmt.Errorf("%w: H.264: %v", ErrUnsupportedMedia, err)
		}
		au = append(au, 0, 0, 0, 1)
		au = append(au, nal.Data...)
		switch codec.NALTypeOf(nal.Data) {
		case codec.NALIDR:
			key = true
			fallthrough
		case codec.NALSlice, codec.NALSliceA:
			s.frames++
			return frame{data: au, duration: s.duration, key: key}, nil
		}
	}
}

// oggSource reads Opus pages; each page's duration comes from its granule
// position (48 kHz samples, RFC 7845 §4).
type oggSource struct {
	f       *os.File
	r       *oggreader.OggReader
	granule uint64
	pages   int
}

func newOggSource(f *os.File) (*oggSource, error) {
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("%w: Ogg Opus: %v", ErrUnsupportedMedia, err)
	}
	return &oggSource{f: f, r: r}, nil
}

func (s *oggSource) mimeType() string { return webrtc.MimeTypeOpus }
func (s *oggSource) Close() error     { return s.f.Close() }

func (s *oggSource) next() (frame, error) {
	for {
		data, h, err := s.r.ParseNextPage()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if s.pages == 0 {
				return frame{}, fmt.Errorf("%w: Ogg without audio", ErrUnsupportedMedia)
			}
			if err := rewind(s.f); err != nil {
				return frame{}, err
			}
			if s.r, _, err = oggreader.NewWith(s.f); err != nil {
				return frame{}, err
			}
			s.granule, s.pages = 0, 0
			continue
		}
		if err != nil {
			return frame{}, fmt.Errorf("read Ogg page: %w", err)
		}
		if h.GranulePosition <= s.granule {
			continue // header pages
		}
		samples := h.GranulePosition - s.granule
		s.granule = h.GranulePosition
		s.pages++
		return frame{data: data, duration: time.Duration(samples) * time.Second / 48000, key: true}, nil
	}
}
