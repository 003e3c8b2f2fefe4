package viewer

import (
	"path/filepath"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/codec"
	"github.com/broadcast-service/broadcast/internal/record"
)

// A new session's offer finalises the recording of the session before it
// (its file and its writer's goroutines were left open, and both wrote
// into the one file).
func TestNewOfferFinalisesTheRecording(t *testing.T) {
	v := New(Options{Record: filepath.Join(t.TempDir(), "two.webm")})
	if err := v.startRecording("m=video"); err != nil {
		t.Fatal(err)
	}
	first := v.recorder()
	if err := first.SetVideo(webrtc.MimeTypeVP8); err != nil {
		t.Fatal(err)
	}
	if err := first.Write(record.Frame{Kind: kindVideo, Data: []byte{0}, Clock: 90000, Key: true, Picture: codec.Picture{Width: 160, Height: 120}}); err != nil {
		t.Fatal(err)
	}
	if err := v.startRecording("m=video"); err != nil {
		t.Fatal(err)
	}
	closed := first.Closed()
	if !closed || v.recorder() == first {
		t.Fatalf("after a second offer: first recording closed %v, replaced %v", closed, v.recorder() != first)
	}
	if err := v.recorder().Close(); err != nil {
		t.Fatal(err)
	}
}
