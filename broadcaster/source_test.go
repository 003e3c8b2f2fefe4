package broadcaster

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/testmedia"
)

func TestSources(t *testing.T) {
	media := testmedia.Make(t, 2)
	tests := []struct {
		path     string
		mime     string
		duration time.Duration
		perLoop  int // frames in one pass of the file
		keyEvery int // a keyframe every this many frames (0: every frame)
	}{
		{media.VP8, webrtc.MimeTypeVP8, time.Second / 30, media.Frames, 30},
		{media.VP9, webrtc.MimeTypeVP9, time.Second / 30, media.Frames, 30},
		{media.H264, webrtc.MimeTypeH264, time.Second / 30, media.Frames, 30},
		// 100 pages of 20 ms, then the 312-sample pre-skip remainder.
		{media.Opus, webrtc.MimeTypeOpus, 20 * time.Millisecond, 101, 0},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			src, err := openSource(tt.path, 30)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.mimeType() != tt.mime {
				t.Fatalf("mime %s, want %s", src.mimeType(), tt.mime)
			}
			// Two passes: the file loops.
			for i := range 2 * tt.perLoop {
				f, err := src.next()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				want := tt.duration
				if tt.mime == webrtc.MimeTypeOpus && i%tt.perLoop == tt.perLoop-1 {
					want = 312 * time.Second / 48000
				}
				if d := f.duration - want; d > time.Millisecond || d < -time.Millisecond {
					t.Fatalf("frame %d lasts %v, want %v", i, f.duration, want)
				}
				wantKey := tt.keyEvery == 0 || (i%tt.perLoop)%tt.keyEvery == 0
				if f.key != wantKey {
					t.Fatalf("frame %d key=%v, want %v", i, f.key, wantKey)
				}
			}
		})
	}
}

func TestUnsupportedMedia(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "clip.mp4")
	garbage := filepath.Join(dir, "noise.ivf")
	empty := filepath.Join(dir, "empty.ogg")
	for _, p := range []string{bad, garbage} {
		if err := os.WriteFile(p, []byte("not media at all, not even close........"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bad, garbage, empty} {
		if _, err := openSource(p, 30); !errors.Is(err, ErrUnsupportedMedia) {
			t.Errorf("openSource(%s) = %v, want ErrUnsupportedMedia", filepath.Base(p), err)
		}
	}
	if _, err := openSource(filepath.Join(dir, "missing.ivf"), 30); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
	media := testmedia.Make(t, 1)
	if _, err := New(Options{Video: media.Opus}); !errors.Is(err, ErrUnsupportedMedia) {
		t.Errorf("audio as video: %v", err)
	}
	if _, err := New(Options{}); !errors.Is(err, ErrNoMedia) {
		t.Errorf("no media: %v", err)
	}
}
