package recording

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/record"
	"github.com/broadcast-service/broadcast/relay"
)

// queuePackets bounds the packets the relay hands a session ahead of its
// writer: 4096 is some 10 s of a 3 Mbit/s stream with its sound, time for
// a slow disk to catch up. Past it, a packet is dropped and counted.
const queuePackets = 4096

// session is one room's recording: a relay.Recording writing into one
// file on its own goroutine.
type session struct {
	rec   *Recorder
	room  string
	start time.Time
	log   *slog.Logger

	packets chan packet   // the relay's, to the writer
	stopped chan struct{} // closed by stop: the relay detaches the session
	stop    func()
	ended   chan struct{} // closed by Ended: the writer drains and finalises
	end     func()
	done    chan struct{} // closed once the file is finalised

	mu     sync.Mutex // guards name, file, frames
	name   string     // the file's, once begun
	file   *record.File
	frames []*record.Frames // per track, as Begin had them

	dropped atomic.Uint64
}

// packet is one RTP packet of track track, marshalled.
type packet struct {
	track int
	data  []byte
}

func newSession(rec *Recorder, room string) *session {
	s := &session{
		rec: rec, room: room, start: time.Now(), log: rec.log.With("room", room),
		packets: make(chan packet, queuePackets),
		stopped: make(chan struct{}), ended: make(chan struct{}), done: make(chan struct{}),
	}
	var stopOnce, endOnce sync.Once
	s.stop = func() { stopOnce.Do(func() { close(s.stopped) }) }
	s.end = func() { endOnce.Do(func() { close(s.ended) }) }
	go s.write()
	return s
}

var _ relay.Recording = (*session)(nil)

// Begin opens the recording's file for the talker's tracks, named by the
// room and the session's start; ErrNoVideo without a video track, and
// record's errors for a codec it cannot hold.
func (s *session) Begin(tracks []relay.RecordedTrack) ([]relay.Writer, error) {
	select {
	case <-s.stopped:
		return nil, ErrStopped
	default:
	}
	video, audio := "", false
	for _, t := range tracks {
		switch t.Kind {
		case webrtc.RTPCodecTypeVideo:
			video = t.Codec.MimeType
		case webrtc.RTPCodecTypeAudio:
			audio = true
		}
	}
	if video == "" {
		s.stop()
		return nil, ErrNoVideo
	}
	name, err := fileName(s.room, s.start, record.Extension(video))
	if err != nil {
		s.stop()
		return nil, err
	}
	file, err := record.NewExclusive(filepath.Join(s.rec.cfg.Dir, name), audio)
	if err == nil {
		err = file.SetVideo(video)
	}
	frames := make([]*record.Frames, len(tracks))
	writers := make([]relay.Writer, len(tracks))
	for i, t := range tracks {
		if err != nil {
			break
		}
		frames[i], err = record.NewFrames(t.Codec.MimeType, t.Codec.ClockRate)
		writers[i] = trackWriter{s: s, track: i}
	}
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.mu.Lock()
	s.name, s.file, s.frames = name, file, frames
	s.mu.Unlock()
	s.log.Info("recording", "file", name, "video", video, "audio", audio)
	return writers, nil
}

// Stopped is closed when the recording is stopped.
func (s *session) Stopped() <-chan struct{} { return s.stopped }

// Ended: the relay writes no more; the writer finalises the file.
func (s *session) Ended(error) { s.end() }

// trackWriter is the relay's writer of one track recorded.
type trackWriter struct {
	s     *session
	track int
}

// WriteRTP queues a copy of the packet for the writer, or drops it if
// the queue is full: it never blocks the relay.
func (w trackWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	n := h.MarshalSize()
	data := make([]byte, n+len(payload))
	if _, err := h.MarshalTo(data); err != nil {
		return 0, err
	}
	copy(data[n:], payload)
	select {
	case w.s.packets <- packet{track: w.track, data: data}:
	default:
		w.s.dropped.Add(1)
		w.s.rec.stats.dropped.Add(1)
	}
	return len(payload), nil
}

// write writes what the relay hands over until the relay ends the
// recording, then what is still queued, and finalises the file. A write
// error stops the recording.
func (s *session) write() {
	defer close(s.done)
	defer s.finish()
	failed := false
	take := func(p packet) {
		if failed {
			return
		}
		if err := s.writePacket(p); err != nil {
			failed = true
			s.fail(err)
		}
	}
	for {
		select {
		case p := <-s.packets:
			take(p)
		case <-s.ended:
			for {
				select {
				case p := <-s.packets:
					take(p)
				default:
					return
				}
			}
		}
	}
}

// writePacket builds p into its track's frames and writes those complete.
func (s *session) writePacket(p packet) error {
	s.mu.Lock()
	file, frames := s.file, s.frames
	s.mu.Unlock()
	if file == nil || p.track >= len(frames) {
		return nil
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(p.data); err != nil {
		return nil // the relay's own packet: cannot be
	}
	before := file.Bytes()
	err := frames[p.track].Push(&pkt, file.Write)
	s.rec.stats.bytes.Add(uint64(file.Bytes() - before))
	return err
}

// fail stops the recording on a write error (a full disk): logged and
// counted; the broadcast goes on.
func (s *session) fail(err error) {
	s.rec.stats.failed.Add(1)
	s.log.Error("recording stopped: write failed", "file", s.fileName(), "err", err)
	s.stop()
}

// finish finalises the file and takes the session off the recorder.
func (s *session) finish() {
	s.mu.Lock()
	file, name := s.file, s.name
	s.mu.Unlock()
	if file != nil {
		if err := file.Close(); err != nil {
			s.rec.stats.failed.Add(1)
			s.log.Error("recording not finalised", "file", name, "err", err)
		} else {
			s.log.Info("recording finalised", "file", name, "bytes", file.Bytes(), "dropped_packets", s.dropped.Load())
		}
	}
	s.rec.forget(s)
}

// fileName is the recording's file name, "" before Begin.
func (s *session) fileName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}

// bytes is what the recording wrote so far.
func (s *session) bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return 0
	}
	return s.file.Bytes()
}
