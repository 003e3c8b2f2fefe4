package main

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/viewer"
)

// simulcastFiles returns the Go talker's -video for three layers of the
// same test card, highest first: 640x480, 320x240 and 160x120.
func simulcastFiles(t *testing.T) (video, audio string) {
	t.Helper()
	var files []string
	for _, w := range []int{640, 320, 160} {
		m := testmedia.MakeSized(t, 3, w, w*3/4)
		files = append(files, m.VP8)
		audio = m.Opus
	}
	return strings.Join(files, ","), audio
}

// A Go talker on air with three files as simulcast layers: through the
// relay, a Go watcher pinned to the low layer records the 160x120 file and
// one on auto, on loopback, the 640x480 one, each told its layer by the
// relay; a direct watcher (no relay) records the first file, the highest.
func TestSimulcastFromGoTalker(t *testing.T) {
	video, audio := simulcastFiles(t)
	watch := func(t *testing.T, url, layer, path string) (viewer.Stats, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		return viewer.New(viewer.Options{Server: url, Room: "layers", Duration: 2 * time.Second, WaitTalker: 30 * time.Second, Record: path, Layer: layer}).Run(ctx)
	}
	t.Run("through the relay", func(t *testing.T) {
		url, _ := startServe(t, "-relay", "always")
		onAir(t, broadcaster.Options{Server: url, Room: "layers", Video: video, Audio: audio})
		dir := t.TempDir()
		layers := []string{protocol.LayerLow, protocol.LayerAuto}
		wantLayer := []string{protocol.LayerLow, protocol.LayerHigh}
		wantWidth := []int{160, 640}
		stats, errs := make([]viewer.Stats, len(layers)), make([]error, len(layers))
		var wg sync.WaitGroup
		for i, l := range layers {
			wg.Go(func() { stats[i], errs[i] = watch(t, url, l, filepath.Join(dir, l+".webm")) })
		}
		wg.Wait()
		for i, l := range layers {
			st := stats[i]
			if errs[i] != nil || st.Via != viewer.ViaRelay || st.Frames == 0 || st.Layer != wantLayer[i] {
				t.Errorf("watcher on %s: %+v, %v; want frames via the relay on layer %s", l, st, errs[i], wantLayer[i])
				continue
			}
			v := probeVideo(t, filepath.Join(dir, l+".webm"))
			t.Logf("watcher on %s recorded %+v", l, v)
			if v.width != wantWidth[i] || v.frames < 40 {
				t.Errorf("watcher on %s recorded %+v, want %d pixels wide, at least 40 frames", l, v, wantWidth[i])
			}
		}
	})
	t.Run("direct", func(t *testing.T) {
		url, _ := startServe(t, "-relay", "off")
		onAir(t, broadcaster.Options{Server: url, Room: "layers", Video: video, Audio: audio})
		path := filepath.Join(t.TempDir(), "direct.webm")
		st, err := watch(t, url, "", path)
		if err != nil || st.Via != viewer.ViaDirect || st.Frames == 0 || st.Layer != "" {
			t.Fatalf("direct watcher: %+v, %v; want frames from the talker, no layer", st, err)
		}
		if v := probeVideo(t, path); v.width != 640 {
			t.Errorf("direct watcher recorded %+v, want the first file's 640 pixels", v)
		}
	})
}
