package main

import (
	"context"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/talkertest"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/viewer"
)

// BenchmarkRelayJoin measures how soon a watcher joining a live relay room
// sees a picture: a Go talker on air through the server's relay (-relay
// always), watchers joining one at a time (join1) and five together
// (join5), each watching joinWatch of media. Each iteration is joinRounds
// joins one at a time, or joinRounds/5 rounds of five, each round after a
// pause that spreads the joins over the talker's group of pictures.
//
// Reported: the time to first frame (viewer Stats.TimeToFirstFrameMS, from
// the talk_request to the first video keyframe) as ttff-p50-ms and
// ttff-p90-ms over every join; and smoothness, the video frames each
// watcher counted per second of watching after its first (fps-min, and
// fps-p50; the talker sends 30), and packets lost (lost/join). Run with
//
//	go test -run '^$' -bench BenchmarkRelayJoin -benchtime 1x ./cmd/broadcast/
func BenchmarkRelayJoin(b *testing.B) {
	for _, mode := range []struct {
		name     string
		gopBytes int // relay.Config.GOPCacheBytes
	}{{"pli", -1}, {"gop", 0}} {
		b.Run(mode.name, func(b *testing.B) {
			url := startServeB(b, mode.gopBytes)
			onAirB(b, url, "bench")
			// A first watcher, not counted: the relay is in the room and
			// the talker's tracks are in before the joins measured.
			watchTogether(b, url, "bench", 1)
			for _, together := range []int{1, 5} {
				b.Run("join"+string(rune('0'+together)), func(b *testing.B) {
					var all []viewer.Stats
					for b.Loop() {
						for i := range joinRounds / together {
							// Joins spread over the talker's group of
							// pictures (1 s), not locked to its loop.
							time.Sleep(time.Duration(i*joinSpread%1000) * time.Millisecond)
							all = append(all, watchTogether(b, url, "bench", together)...)
						}
					}
					reportJoins(b, all)
				})
			}
		})
	}
}

// joinRounds is how many joins each iteration measures; joinWatch is how
// long each watcher watches after its first frame.
const (
	joinRounds = 10
	joinWatch  = 2 * time.Second
	joinSpread = 370 // ms between the phases of successive joins, modulo 1 s
)

// watchTogether runs n watchers of room at once and returns their stats,
// failing b on a watcher that saw nothing.
func watchTogether(b *testing.B, url, room string, n int) []viewer.Stats {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stats, errs := make([]viewer.Stats, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			stats[i], errs[i] = viewer.New(viewer.Options{Server: url, Room: room, Duration: joinWatch, WaitTalker: 30 * time.Second}).Run(ctx)
		})
	}
	wg.Wait()
	for i, st := range stats {
		if errs[i] != nil || st.Frames == 0 || st.Via != viewer.ViaRelay {
			b.Fatalf("watcher %d: %+v, %v", i, st, errs[i])
		}
	}
	return stats
}

// reportJoins reports the time to first frame and smoothness of joins.
func reportJoins(b *testing.B, all []viewer.Stats) {
	b.Helper()
	ttff := make([]float64, 0, len(all))
	fps := make([]float64, 0, len(all))
	var lost float64
	for _, st := range all {
		ttff = append(ttff, st.TimeToFirstFrameMS)
		fps = append(fps, float64(st.Frames)/joinWatch.Seconds())
		lost += float64(st.PacketsLost)
	}
	b.ReportMetric(quantile(ttff, 0.5), "ttff-p50-ms")
	b.ReportMetric(quantile(ttff, 0.9), "ttff-p90-ms")
	b.ReportMetric(slices.Min(fps), "fps-min")
	b.ReportMetric(quantile(fps, 0.5), "fps-p50")
	b.ReportMetric(lost/float64(len(all)), "lost/join")
	b.ReportMetric(float64(len(all)), "joins")
	b.ReportMetric(0, "ns/op")
	b.Logf("ttff ms: %v", slices.Sorted(slices.Values(ttff)))
}

// quantile returns the q-quantile of xs (nearest rank).
func quantile(xs []float64, q float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// startServeB serves with -relay always, the relay's GOP cache of
// gopBytes (relay.Config.GOPCacheBytes), until b ends.
func startServeB(b *testing.B, gopBytes int) string {
	b.Helper()
	cfg, err := parseServeConfig([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "off", "-relay", "always"}, env(nil), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Relay.GOPCacheBytes = gopBytes
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan listening, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, newLogger(io.Discard, 0), ready) }()
	select {
	case l := <-ready:
		b.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				b.Error(err)
			}
		})
		return "http://" + l.Addr.String()
	case err := <-done:
		cancel()
		b.Fatalf("serve: %v", err)
	}
	return ""
}

// onAirB puts a Go talker on air in room (a mesh cap of 1: the relay
// serves every watcher) until b ends.
func onAirB(b *testing.B, url, room string) {
	b.Helper()
	media := testmedia.Make(b, 2)
	talkertest.OnAir(b, broadcaster.Options{Server: url, Room: room, Video: media.VP8, Audio: media.Opus, MaxWatchers: 1})
}
