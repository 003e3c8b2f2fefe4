package recording

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/relay"
)

// fakeRelay records like the relay does: it hands the recording its
// tracks, and says it ended once the recording stops.
type fakeRelay struct{ recs chan relay.Recording }

func (f fakeRelay) Record(_ string, rec relay.Recording) error {
	f.recs <- rec
	go func() {
		<-rec.Stopped()
		rec.Ended(nil)
	}()
	return nil
}

func newTestRecorder(t *testing.T) (*Recorder, fakeRelay) {
	t.Helper()
	relays := fakeRelay{recs: make(chan relay.Recording, 1)}
	r, err := New(Config{Dir: t.TempDir(), Relays: relays, OnAir: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r, relays
}

var vp8 = relay.RecordedTrack{Kind: webrtc.RTPCodecTypeVideo, Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}}

// keyframe is one RTP packet holding a whole 160x120 VP8 keyframe (the
// payload descriptor, then the frame's header: RFC 6386 §9.1).
func keyframe(seq uint16, ts uint32) (*rtp.Header, []byte) {
	h := &rtp.Header{Version: 2, Marker: true, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: 1}
	payload := []byte{0x10, 0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 160, 0, 120, 0, 0, 0}
	return h, payload
}

// A write error (a full disk: the file is /dev/full) stops that recording,
// logged and counted; the relay's writer was never held up.
func TestWriteErrorStopsTheRecording(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("this test writes to /dev/full: %v", err)
	}
	r, relays := newTestRecorder(t)
	if _, err := r.Start("lab"); err != nil {
		t.Fatal(err)
	}
	rec := <-relays.recs
	writers, err := rec.Begin([]relay.RecordedTrack{vp8})
	if err != nil {
		t.Fatal(err)
	}
	name := r.State("lab").File
	if err := os.Symlink("/dev/full", filepath.Join(r.cfg.Dir, name)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		start := time.Now()
		if _, err := writers[0].WriteRTP(keyframe(uint16(i), uint32(i*3000))); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("the relay's write took %v", d)
		}
	}
	select {
	case <-rec.Stopped():
	case <-time.After(10 * time.Second):
		t.Fatal("the recording did not stop on its write error")
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.State("lab").Recording {
		if time.Now().After(deadline) {
			t.Fatal("the room still records")
		}
		time.Sleep(10 * time.Millisecond) // polled: the writer finishes on its goroutine
	}
	if st := r.Stats(); st.Failed != 1 || st.Started != 1 || st.Active != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Without video nothing is recorded; a room not on air is refused.
func TestRecordingNeedsVideoAndATalker(t *testing.T) {
	r, relays := newTestRecorder(t)
	if _, err := r.Start("lab"); err != nil {
		t.Fatal(err)
	}
	rec := <-relays.recs
	opus := relay.RecordedTrack{Kind: webrtc.RTPCodecTypeAudio, Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000}}}
	if _, err := rec.Begin([]relay.RecordedTrack{opus}); !errors.Is(err, ErrNoVideo) {
		t.Errorf("audio alone: %v, want ErrNoVideo", err)
	}
	<-rec.Stopped()
	r.cfg.OnAir = func(string) bool { return false }
	if _, err := r.Start("off air"); !errors.Is(err, ErrNotOnAir) {
		t.Errorf("a room off air: %v", err)
	}
}

// A recording's name gives its room and start back, and is no path nor
// hidden file; other names do not parse; a room whose name would be over
// a file name's 255 bytes is refused.
func TestNames(t *testing.T) {
	start := time.Date(2026, 12, 3, 15, 4, 5, 123e6, time.UTC)
	for _, room := range []string{"lab", "Hörsaal 3", "a_b", "x/y", "(#1) @home", ".hidden", "..", "講義室" + strings.Repeat("あ", 61)} {
		name, err := fileName(room, start, ".webm")
		if err != nil {
			t.Errorf("%q: %v", room, err)
			continue
		}
		got, at, ok := parseName(name)
		if !ok || got != room || !at.Equal(start) {
			t.Errorf("%q: %q → %q %v %v", room, name, got, at, ok)
		}
		if filepath.Base(name) != name || strings.HasPrefix(name, ".") || len(name) > 255 {
			t.Errorf("%q: %q is a path, hidden or too long", room, name)
		}
	}
	if name, err := fileName(strings.Repeat("\U00020000", 64), start, ".webm"); !errors.Is(err, ErrBadRoom) {
		t.Errorf("64 four-byte letters: %q, %v; want ErrBadRoom", name, err)
	}
	for _, name := range []string{"notes.txt", "lab.webm", "lab_2026.webm", "../x_20261203T150405.000Z.webm", ".lab_20261203T150405.000Z.webm", "%zz_20261203T150405.000Z.mkv", "a%2Eb_20261203T150405.000Z.webm.part"} {
		if _, _, ok := parseName(name); ok {
			t.Errorf("%q parsed", name)
		}
	}
}

// A download's name, from the client: a recording's name or refused,
// never a path out of the directory, never a panic.
func FuzzParseName(f *testing.F) {
	f.Add("lab_20261203T150405.000Z.webm")
	f.Add("Hörsaal%203_20261203T150405.123Z.mkv")
	f.Add("%2E%2E%2F%2E%2E_20261203T150405.000Z.webm")
	f.Fuzz(func(t *testing.T, name string) {
		room, start, ok := parseName(name)
		if !ok {
			return
		}
		again, err := fileName(room, start, filepath.Ext(name))
		if filepath.Base(name) != name || strings.HasPrefix(name, ".") || err != nil || again != name {
			t.Fatalf("%q taken as room %q", name, room)
		}
	})
}

// A recording stopped before the relay began it (the talker's tracks not
// in yet) is not begun later: its session refuses, and no file is made.
func TestStoppedBeforeBegun(t *testing.T) {
	r, relays := newTestRecorder(t)
	if _, err := r.Start("lab"); err != nil {
		t.Fatal(err)
	}
	rec := <-relays.recs
	if st := r.Stop("lab"); st.Recording {
		t.Fatalf("stopped: %+v", st)
	}
	if _, err := rec.Begin([]relay.RecordedTrack{vp8}); !errors.Is(err, ErrStopped) {
		t.Errorf("Begin after Stop: %v, want ErrStopped", err)
	}
	if entries, _ := os.ReadDir(r.cfg.Dir); len(entries) != 0 {
		t.Errorf("files %v", entries)
	}
}
