package record

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/webrtc/v4"
)

// File writes audio and video into one file: WebM for VP8 and VP9,
// Matroska for H.264, without decoding. It starts at the first video
// keyframe (a file must begin with one); audio before that is dropped.
// Timestamps come from the RTP timestamps, each track anchored at its
// first frame's arrival, so the two stay in step. Its clusters go to the
// file as they are written: a player reads it while it grows (its
// segment's size is unknown until Close). Its methods are safe for
// concurrent use.
type File struct {
	path      string
	withAudio bool
	exclusive bool // the file must not be there yet (NewExclusive)

	mu        sync.Mutex // guards the fields below
	videoMime string
	start     time.Time
	video     webm.BlockWriteCloser
	audio     webm.BlockWriteCloser
	anchors   map[string]anchor // per kind
	bytes     int64             // of frames written
	closed    bool
}

// anchor is a track's time in the file: its first frame's time (ms from
// the file's start) and RTP timestamp, and the last one's, with the ticks
// since the first unwrapped into 64 bits (a 90 kHz clock wraps its 32
// bits in 13 hours, past half of them in 6.6).
type anchor struct {
	clock float64
	ms    int64
	last  uint32
	ticks int64
}

// maxTrackLag is how many blocks of one track the recording holds while
// the other track's, earlier, are still to come: 256 is 5 s of 20 ms Opus
// or 8.5 s of 30 fps video. The blocks of both go into the file in time
// order; one that comes after a later block of the other track was
// written is left out. ebml-go's default, 16 (320 ms of audio), dropped
// video that a watcher on a loaded host or a lossy link (a frame waiting
// for its NACKed packet) got late, leaving holes in the recording.
const maxTrackLag = 256

// New records into path, a .webm (VP8, VP9) or .mkv (also H.264) file,
// created at the first video keyframe; withAudio says whether the stream
// has audio. It returns ErrUnsupportedCodec for another extension.
func New(path string, withAudio bool) (*File, error) {
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".webm" && ext != ".mkv" {
		return nil, fmt.Errorf("%w: record to .webm (VP8/VP9) or .mkv (H.264), not %s", ErrUnsupportedCodec, filepath.Base(path))
	}
	return &File{path: path, withAudio: withAudio, anchors: map[string]anchor{}}, nil
}

// NewExclusive is New for a file that must not be there yet: its
// creation fails (an error from Write) rather than replace one.
func NewExclusive(path string, withAudio bool) (*File, error) {
	f, err := New(path, withAudio)
	if err == nil {
		f.exclusive = true
	}
	return f, err
}

// Extension returns the file extension that holds video of mime: .mkv
// for H.264, .webm for VP8 and VP9 (and for no video).
func Extension(mime string) string {
	if strings.EqualFold(mime, webrtc.MimeTypeH264) {
		return ".mkv"
	}
	return ".webm"
}

// SetVideo sets the video codec, the track's, and returns
// ErrUnsupportedCodec if the file cannot hold it.
func (r *File) SetVideo(mime string) error {
	ext := strings.ToLower(filepath.Ext(r.path))
	switch {
	case mime == webrtc.MimeTypeH264 && ext != ".mkv":
		return fmt.Errorf("%w: H.264 goes into .mkv, not %s", ErrUnsupportedCodec, ext)
	case mime != webrtc.MimeTypeVP8 && mime != webrtc.MimeTypeVP9 && mime != webrtc.MimeTypeH264:
		return fmt.Errorf("%w: %s", ErrUnsupportedCodec, mime)
	}
	r.mu.Lock()
	r.videoMime = mime
	r.mu.Unlock()
	return nil
}

// open creates the file at the first keyframe, of the given size;
// codecPrivate is H.264's avcC record.
func (r *File) open(width, height int, codecPrivate []byte) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if r.exclusive {
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(r.path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("create recording: %w", err)
	}
	codec := "V_VP8"
	switch r.videoMime {
	case webrtc.MimeTypeVP9:
		codec = "V_VP9"
	case webrtc.MimeTypeH264:
		codec = "V_MPEG4/ISO/AVC"
	}
	tracks := []webm.TrackEntry{{
		Name: "Video", TrackNumber: 1, TrackUID: 1, CodecID: codec, CodecPrivate: codecPrivate, TrackType: 1,
		Video: &webm.Video{PixelWidth: uint64(width), PixelHeight: uint64(height)},
	}}
	if r.withAudio {
		tracks = append(tracks, webm.TrackEntry{
			Name: "Audio", TrackNumber: 2, TrackUID: 2, CodecID: "A_OPUS", TrackType: 2,
			Audio: &webm.Audio{SamplingFrequency: 48000, Channels: 2},
		})
	}
	sorter, err := mkvcore.NewMultiTrackBlockSorter(mkvcore.WithMaxDelayedPackets(maxTrackLag), mkvcore.WithSortRule(mkvcore.BlockSorterDropOutdated))
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("start recording: %w", err)
	}
	opts := []mkvcore.BlockWriterOption{mkvcore.WithBlockInterceptor(sorter)}
	if strings.EqualFold(filepath.Ext(r.path), ".mkv") {
		header := *webm.DefaultEBMLHeader
		header.DocType = "matroska"
		opts = append(opts, mkvcore.WithEBMLHeader(&header))
	}
	ws, err := webm.NewSimpleBlockWriter(f, tracks, opts...)
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("start recording: %w", err)
	}
	r.video = ws[0]
	if r.withAudio {
		r.audio = ws[1]
	}
	r.start = time.Now()
	return nil
}

// Write adds one frame; a video keyframe comes with its size and, for
// H.264, its avcC record. Frames before the first video keyframe, and
// audio the file has no track for, are left out. It returns the error of
// creating or writing the file (a full disk, say); after Close it writes
// nothing and returns nil.
func (r *File) Write(f Frame) error {
	kind, data, rtpTS, clock, key := f.Kind, f.Data, f.RTPTime, f.Clock, f.Key || f.Kind == KindAudio
	width, height, codecPrivate := f.Picture.Width, f.Picture.Height, f.Picture.AVCConfig
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	if r.video == nil {
		if kind != KindVideo || !key {
			return nil
		}
		if err := r.open(width, height, codecPrivate); err != nil {
			return err
		}
	}
	w := r.video
	if kind == KindAudio {
		if r.audio == nil {
			return nil
		}
		w = r.audio
	}
	a, ok := r.anchors[kind]
	if !ok {
		a = anchor{clock: clock, ms: time.Since(r.start).Milliseconds(), last: rtpTS}
	}
	a.ticks += int64(int32(rtpTS - a.last)) // frames come within 2^31 ticks of each other
	a.last = rtpTS
	r.anchors[kind] = a
	ms := a.ms + int64(float64(a.ticks)/a.clock*1000)
	if _, err := w.Write(key, ms, data); err != nil {
		return fmt.Errorf("write %s: %w", kind, err)
	}
	r.bytes += int64(len(data))
	return nil
}

// Bytes returns how many bytes of frames were written.
func (r *File) Bytes() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bytes
}

// Closed reports whether Close was called.
func (r *File) Closed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// Close finalises the file; it is safe to call more than once.
func (r *File) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.audio != nil {
		err = r.audio.Close()
	}
	if r.video != nil {
		if cerr := r.video.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
