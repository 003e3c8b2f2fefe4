package viewer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/webrtc/v4"
)

// recordedBlocks returns how many blocks of each track number a WebM file
// holds.
func recordedBlocks(t *testing.T, path string) map[uint64]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var doc struct {
		Header  webm.EBMLHeader    `ebml:"EBML"`
		Segment webm.SegmentStream `ebml:"Segment,size=unknown"`
	}
	if err := ebml.Unmarshal(f, &doc); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	n := map[uint64]int{}
	for _, c := range doc.Segment.Cluster {
		for _, b := range c.SimpleBlock {
			n[b.TrackNumber]++
		}
	}
	return n
}

// Video that comes late, behind 40 audio packets (800 ms of Opus) of later
// time, as a watcher on a loaded host or waiting for a NACKed packet gets
// it, is recorded, not left out for having come after later audio.
func TestRecordingKeepsLateVideo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "late.webm")
	r, err := newRecorder(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.setVideo(webrtc.MimeTypeVP8); err != nil {
		t.Fatal(err)
	}
	const videoClock, audioClock = 90000, 48000
	frame := []byte{0, 1, 2, 3}
	if err := r.write(kindVideo, frame, 0, videoClock, true, 160, 120, nil); err != nil {
		t.Fatal(err)
	}
	const audioPackets, lateFrames = 40, 20
	for i := range audioPackets {
		if err := r.write(kindAudio, frame, uint32(i*audioClock/50), audioClock, true, 0, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= lateFrames; i++ {
		if err := r.write(kindVideo, frame, uint32(i*videoClock/30), videoClock, false, 0, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.close(); err != nil {
		t.Fatal(err)
	}
	n := recordedBlocks(t, path)
	if n[1] != 1+lateFrames || n[2] != audioPackets {
		t.Fatalf("recorded %d video and %d audio blocks, want %d and %d", n[1], n[2], 1+lateFrames, audioPackets)
	}
}

// A new session's offer finalises the recording of the session before it
// (its file and its writer's goroutines were left open, and both wrote
// into the one file).
func TestNewOfferFinalisesTheRecording(t *testing.T) {
	v := New(Options{Record: filepath.Join(t.TempDir(), "two.webm")})
	if err := v.startRecording("m=video"); err != nil {
		t.Fatal(err)
	}
	first := v.recorder()
	if err := first.setVideo(webrtc.MimeTypeVP8); err != nil {
		t.Fatal(err)
	}
	if err := first.write(kindVideo, []byte{0}, 0, 90000, true, 160, 120, nil); err != nil {
		t.Fatal(err)
	}
	if err := v.startRecording("m=video"); err != nil {
		t.Fatal(err)
	}
	first.mu.Lock()
	closed := first.closed
	first.mu.Unlock()
	if !closed || v.recorder() == first {
		t.Fatalf("after a second offer: first recording closed %v, replaced %v", closed, v.recorder() != first)
	}
	if err := v.recorder().close(); err != nil {
		t.Fatal(err)
	}
}
