package testmedia

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// IVFFrames returns the frames of an IVF file (VP8, VP9), in order; it
// fails the test if the file does not read.
func IVFFrames(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, frame)
	}
}

// AccessUnits returns the access units of an H.264 Annex B file, each as
// its NAL units (without start codes) up to and including its picture's
// slice; it fails the test if the file does not read.
func AccessUnits(t testing.TB, path string) [][][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][][]byte
	var nals [][]byte
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			return aus
		}
		if err != nil {
			t.Fatal(err)
		}
		nals = append(nals, nal.Data)
		if nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr {
			aus, nals = append(aus, nals), nil
		}
	}
}
