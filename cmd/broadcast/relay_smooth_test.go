package main

import (
	"context"
	"encoding/binary"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/viewer"
)

// The recordings' checks: the talker's files are 30 fps; a recording
// holds at least minFrameShare of the frames its span implies, no two
// consecutive video frames lie more than maxFrameGap apart, and it spans
// at least minSpan. The span is the video's own time, from its first frame
// to its last, not the watcher's wall-clock time: on two cores loaded by
// others, under -race, the talker's pace lags the clock at times and
// catches up, so that a watcher's seconds hold more or less than a
// second's frames, none of them lost.
const (
	talkerFPS     = 30
	minFrameShare = 0.9
	maxFrameGap   = 200 * time.Millisecond
	minSpan       = time.Second
)

// smallMedia is the test card at 160x120: light enough for many peers on
// two loaded cores under -race.
func smallMedia(t *testing.T) testmedia.Files {
	t.Helper()
	return testmedia.MakeSized(t, 3, 160, 120)
}

// frameTimes returns the presentation times of the decoded video frames
// of path, in order, read with ffprobe.
func frameTimes(t *testing.T, path string) []time.Duration {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "frame=pts_time", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	var ts []time.Duration
	for _, line := range strings.Fields(string(out)) {
		s, err := strconv.ParseFloat(strings.TrimSuffix(line, ","), 64)
		if err != nil {
			t.Fatalf("ffprobe %s: frame time %q: %v", path, line, err)
		}
		ts = append(ts, time.Duration(s*float64(time.Second)))
	}
	return ts
}

// smoothness is what a recording shows of the video's flow.
type smoothness struct {
	video  videoStream   // as probeVideo reads it
	maxGap time.Duration // the longest step between consecutive frames
	span   time.Duration // from the first frame to the last
}

// probeSmooth reads path's video stream and the steps between its frames.
func probeSmooth(t *testing.T, path string) smoothness {
	t.Helper()
	s := smoothness{video: probeVideo(t, path)}
	ts := frameTimes(t, path)
	for i := 1; i < len(ts); i++ {
		s.maxGap = max(s.maxGap, ts[i]-ts[i-1])
	}
	if len(ts) > 1 {
		s.span = ts[len(ts)-1] - ts[0]
	}
	return s
}

// checkSmooth checks a VP8 recording: the talker's 160x120, at least
// minSpan long, at least minFrameShare of the frames talkerFPS implies
// over its span decoded, and no step between frames over maxFrameGap. (A
// watcher joining the relay first gets the current group of pictures, its
// frames drawn together in time: they add to the count. The watcher's own
// count of frames is no bound: one whose media connection was slow to come
// up asks again, and the new session starts the recording again.)
func checkSmooth(t *testing.T, who string, s smoothness) {
	t.Helper()
	want := int(minFrameShare * talkerFPS * s.span.Seconds())
	if v := s.video; v.codec != "vp8" || v.width != 160 || v.height != 120 || s.span < minSpan || v.frames < want || s.maxGap > maxFrameGap {
		t.Errorf("%s recorded %+v over %v, longest step %v; want vp8 160x120 over at least %v, %d frames or more, no step over %v",
			who, v, s.span, s.maxGap, minSpan, want, maxFrameGap)
	}
}

// watchRecording is one watcher of a test room, recording.
type watchRecording struct {
	opts  viewer.Options
	stats viewer.Stats
	err   error
}

// watchRecorded runs every watcher at once until each returns (its
// Duration watched, or ctx done), each into a .webm file of its own.
func watchRecorded(ctx context.Context, t *testing.T, ws []*watchRecording) {
	t.Helper()
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i, w := range ws {
		w.opts.Record = filepath.Join(dir, "w"+strconv.Itoa(i)+".webm")
		wg.Go(func() { w.stats, w.err = viewer.New(w.opts).Run(ctx) })
	}
	wg.Wait()
}

// With -relay always, twenty Go watchers record the talker's video through
// the relay at once: once all twenty have seen a keyframe (their
// handshakes, CPU-heavy under -race, are over), they watch 5 s more. Each
// recording decodes at 160x120 with at least 90% of the 30 fps its span
// implies and no step over 200 ms between frames: the relay's fan-out
// loses no frame.
func TestRelayTwentyWatchersRecordSmoothly(t *testing.T) {
	const watchers, watched = 20, 5 * time.Second
	url, _ := startServe(t, "-relay", "always")
	media := smallMedia(t)
	// Video only: twenty-two pion peers under -race on two shared cores
	// are enough work without 50 audio packets a second each.
	onAir(t, broadcaster.Options{Server: url, Room: "crowd", Video: media.VP8, MaxWatchers: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	watching, stop := context.WithCancel(ctx)
	defer stop()
	live := make(chan struct{}, watchers)
	ws := make([]*watchRecording, watchers)
	for i := range ws {
		ws[i] = &watchRecording{opts: viewer.Options{Server: url, Room: "crowd", WaitTalker: time.Minute, OnLive: func() { live <- struct{}{} }}}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchRecorded(watching, t, ws)
	}()
	for n := 0; n < watchers; n++ {
		select {
		case <-live:
		case <-done:
			n = watchers // a watcher failed: its error is reported below
		case <-ctx.Done():
			stop()
			<-done
			t.Fatalf("%d of %d watchers saw a keyframe within 3 min", n, watchers)
		}
	}
	select {
	case <-time.After(watched): // the time the twenty watch together
	case <-done:
	}
	stop()
	<-done
	for i, w := range ws {
		who := "watcher " + strconv.Itoa(i)
		if w.err != nil || w.stats.Via != viewer.ViaRelay || w.stats.Ended != "stopped" {
			t.Errorf("%s: %+v, %v; want it watching via the relay until stopped", who, w.stats, w.err)
			continue
		}
		s := probeSmooth(t, w.opts.Record)
		t.Logf("%s: %d frames decoded over %v, longest step %v; %+v", who, s.video.frames, s.span, s.maxGap, w.stats)
		checkSmooth(t, who, s)
	}
}

// lossyConn is a watcher's ICE socket on a link that loses packets: of
// each RTP stream (SSRC) it reads it drops every lossEvery-th packet (5%,
// deterministic, so the test is not flaky, and the video stream loses its
// share whatever the audio does). STUN, DTLS and RTCP pass: a datagram is
// RTP or RTCP if its first byte is 128 to 191 (RFC 7983), RTCP if its
// second, the packet type, is 192 to 223 (RFC 5761).
type lossyConn struct {
	net.PacketConn
	mu           sync.Mutex
	perSSRC      map[uint32]int
	rtp, dropped atomic.Int64
}

// lossEvery is the lossyConn's loss: one RTP packet in 20.
const lossEvery = 20

func (c *lossyConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || n < 12 || p[0] < 128 || p[0] > 191 || (p[1] >= 192 && p[1] <= 223) {
			return n, addr, err
		}
		c.rtp.Add(1)
		ssrc := binary.BigEndian.Uint32(p[8:12])
		c.mu.Lock()
		if c.perSSRC == nil {
			c.perSSRC = map[uint32]int{}
		}
		c.perSSRC[ssrc]++
		drop := c.perSSRC[ssrc]%lossEvery == 0
		c.mu.Unlock()
		if !drop {
			return n, addr, nil
		}
		c.dropped.Add(1)
	}
}

// metricValue returns the value of the sample named name (with its
// labels, if any) on the Prometheus page at metricsAddr, 0 if absent.
func metricValue(t *testing.T, metricsAddr net.Addr, name string) float64 {
	t.Helper()
	code, body, _ := get(t, "http://"+metricsAddr.String()+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics: %q: %v", line, err)
			}
			return f
		}
	}
	return 0
}

// A relay watcher whose link loses 5% of the media packets it receives
// keeps decoding smoothly: it NACKs what it lost, the relay sends it again
// from its buffer (broadcast_relay_nacks_served_total), and the recording
// holds at least 90% of the talker's 30 fps with no step over 200 ms
// between frames: no frame was left incomplete, which the watcher would
// have dropped.
func TestRelayLossyWatcherDecodesSmoothly(t *testing.T) {
	const watched = 4 * time.Second
	l, _ := startServeAddrs(t, "-relay", "always")
	url := "http://" + l.Addr.String()
	media := smallMedia(t)
	onAir(t, broadcaster.Options{Server: url, Room: "lossy", Video: media.VP8, Audio: media.Opus, MaxWatchers: 1})
	udp, err := net.ListenPacket("udp4", ":0")
	if err != nil {
		t.Fatal(err)
	}
	lossy := &lossyConn{PacketConn: udp}
	w := &watchRecording{opts: viewer.Options{Server: url, Room: "lossy", Duration: watched, WaitTalker: time.Minute, ICEConn: lossy}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	watchRecorded(ctx, t, []*watchRecording{w})
	if w.err != nil || w.stats.Via != viewer.ViaRelay || w.stats.Ended != "duration" {
		t.Fatalf("watcher: %+v, %v; want its full time via the relay", w.stats, w.err)
	}
	served := metricValue(t, l.Metrics, "broadcast_relay_nacks_served_total")
	s := probeSmooth(t, w.opts.Record)
	t.Logf("%d of %d RTP packets dropped; %d NACKs sent, %v served by the relay; %d frames decoded over %v, longest step %v",
		lossy.dropped.Load(), lossy.rtp.Load(), w.stats.NACKs, served, s.video.frames, s.span, s.maxGap)
	if lossy.dropped.Load() < 5 {
		t.Fatalf("%d packets dropped: the link lost too little to tell", lossy.dropped.Load())
	}
	if w.stats.NACKs == 0 || served == 0 {
		t.Errorf("%d NACKs sent, %v served from the relay's buffer; want both", w.stats.NACKs, served)
	}
	checkSmooth(t, "lossy watcher", s)
}
