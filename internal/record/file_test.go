package record

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/codec"
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
	r, err := New(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetVideo(webrtc.MimeTypeVP8); err != nil {
		t.Fatal(err)
	}
	const videoClock, audioClock = 90000, 48000
	frame := []byte{0, 1, 2, 3}
	if err := r.Write(Frame{Kind: KindVideo, Data: frame, Clock: videoClock, Key: true, Picture: codec.Picture{Width: 160, Height: 120}}); err != nil {
		t.Fatal(err)
	}
	const audioPackets, lateFrames = 40, 20
	for i := range audioPackets {
		if err := r.Write(Frame{Kind: KindAudio, Data: frame, RTPTime: uint32(i * audioClock / 50), Clock: audioClock}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= lateFrames; i++ {
		if err := r.Write(Frame{Kind: KindVideo, Data: frame, RTPTime: uint32(i * videoClock / 30), Clock: videoClock}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	n := recordedBlocks(t, path)
	if n[1] != 1+lateFrames || n[2] != audioPackets {
		t.Fatalf("recorded %d video and %d audio blocks, want %d and %d", n[1], n[2], 1+lateFrames, audioPackets)
	}
}
