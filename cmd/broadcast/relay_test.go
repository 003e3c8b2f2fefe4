package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/logtest"
	"github.com/broadcast-service/broadcast/internal/redistest"
	"github.com/broadcast-service/broadcast/internal/talkertest"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/relay"
	"github.com/broadcast-service/broadcast/signaling"
	"github.com/broadcast-service/broadcast/viewer"
)

// The hub gets the relay's mode and secret; the secret is new for each
// process, and -relay off starts no relay.
func TestRelayConfigReachesTheHub(t *testing.T) {
	a, err := parseServeConfig([]string{"-relay", "always"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseServeConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if a.Relay.Secret == b.Relay.Secret {
		t.Fatal("two processes would share a relay secret")
	}
	log := slog.New(slog.DiscardHandler)
	opts := hubOptions(a, log)
	if opts.RelayMode != signaling.RelayAlways || opts.RelaySecret != a.Relay.Secret {
		t.Fatalf("hub options: mode %q, secret set %v", opts.RelayMode, opts.RelaySecret == a.Relay.Secret)
	}
	off := a
	off.Relay.Mode = signaling.RelayOff
	if m, err := newRelays(off, nil, nil, log); m != nil || err != nil {
		t.Fatalf("-relay off has relays: %v, %v", m, err)
	}
}

// watchAll runs n Go watchers of room on url at once, each for a second
// of video, and returns their stats and errors.
func watchAll(t *testing.T, url, room string, n int) ([]viewer.Stats, []error) {
	t.Helper()
	urls := make([]string, n)
	for i := range urls {
		urls[i] = url
	}
	return watchOn(t, room, urls...)
}

// watchOn runs a Go watcher of room on each of urls at once, each for a
// second of video, and returns their stats and errors.
func watchOn(t *testing.T, room string, urls ...string) ([]viewer.Stats, []error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stats, errs := make([]viewer.Stats, len(urls)), make([]error, len(urls))
	var wg sync.WaitGroup
	for i, url := range urls {
		wg.Go(func() {
			stats[i], errs[i] = viewer.New(viewer.Options{Server: url, Room: room, Duration: time.Second, WaitTalker: 30 * time.Second}).Run(ctx)
		})
	}
	wg.Wait()
	return stats, errs
}

// onAirFromFiles puts a Go talker on air in room with a mesh cap of
// maxWatchers, until the test ends.
func onAirFromFiles(t *testing.T, url, room string, maxWatchers int) *broadcaster.Broadcaster {
	t.Helper()
	media := testmedia.Make(t, 2)
	return onAir(t, broadcaster.Options{Server: url, Room: room, Video: media.VP8, Audio: media.Opus, MaxWatchers: maxWatchers})
}

// onAir puts a Go talker on air with opts until the test ends.
func onAir(t *testing.T, opts broadcaster.Options) *broadcaster.Broadcaster {
	t.Helper()
	b, _ := talkertest.OnAir(t, opts)
	return b
}

// checkOneDirectTwoRelayed checks three watchers of a talker whose mesh
// holds one: each watched its full second, one directly and two through
// the relay, and the talker serves no more than that one and the relay.
func checkOneDirectTwoRelayed(t *testing.T, talker *broadcaster.Broadcaster, stats []viewer.Stats, errs []error) {
	t.Helper()
	via := map[string]int{}
	for i, st := range stats {
		if errs[i] != nil || st.Ended != "duration" || st.Frames == 0 {
			t.Errorf("watcher %d: %+v, %v", i, st, errs[i])
		}
		via[st.Via]++
	}
	if via[viewer.ViaDirect] != 1 || via[viewer.ViaRelay] != 2 {
		t.Errorf("watchers by way: %v, want 1 direct and 2 via the relay", via)
	}
	if n := talker.Watchers(); n > 2 {
		t.Errorf("the talker serves %d peers, want at most its one watcher and the relay", n)
	}
}

// checkStarted checks that the relay on node a started wantA watchers'
// video and the one on b wantB, as their /metrics say.
func checkStarted(t *testing.T, a listening, wantA int, b listening, wantB int) {
	t.Helper()
	for node, n := range map[net.Addr]int{a.Metrics: wantA, b.Metrics: wantB} {
		want := fmt.Sprintf("broadcast_relay_watchers_started_total %d\n", n)
		code, body, _ := get(t, "http://"+node.String()+"/metrics")
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("%s/metrics: %d, want %q in\n%s", node, code, want, body)
		}
	}
}

// checkOneDirectOneFull checks two watchers of a talker whose mesh holds
// one, with no relay to take the other (what says which server): one
// watched directly, the other was refused as full.
func checkOneDirectOneFull(t *testing.T, what string, stats []viewer.Stats, errs []error) {
	t.Helper()
	full := 0
	for i := range stats {
		if errors.Is(errs[i], viewer.ErrRoomFull) {
			full++
		} else if errs[i] != nil || stats[i].Via != viewer.ViaDirect {
			t.Errorf("%s, watcher %d: %+v, %v", what, i, stats[i], errs[i])
		}
	}
	if full != 1 {
		t.Errorf("%s: %d watchers refused as full, want 1", what, full)
	}
}

// With -relay auto, a talker whose mesh holds one watcher serves it
// directly, and the server's relay serves the others: nobody is turned
// away, and each watcher gets moving video.
func TestRelayAutoServesWatchersPastTheMesh(t *testing.T) {
	url, _ := startServe(t, "-relay", "auto")
	talker := onAirFromFiles(t, url, "lecture", 1)
	stats, errs := watchAll(t, url, "lecture", 3)
	checkOneDirectTwoRelayed(t, talker, stats, errs)
}

// With -relay always every watcher is served by the relay, and with -relay
// off the watcher past the mesh is refused as before.
func TestRelayAlwaysAndOff(t *testing.T) {
	url, _ := startServe(t, "-relay", "always")
	onAirFromFiles(t, url, "studio", 1)
	stats, errs := watchAll(t, url, "studio", 2)
	for i, st := range stats {
		if errs[i] != nil || st.Frames == 0 || st.Via != viewer.ViaRelay {
			t.Errorf("-relay always, watcher %d: %+v, %v; want frames via the relay", i, st, errs[i])
		}
	}

	offURL, _ := startServe(t, "-relay", "off")
	onAirFromFiles(t, offURL, "small", 1)
	stats, errs = watchAll(t, offURL, "small", 2)
	checkOneDirectOneFull(t, "-relay off", stats, errs)
}

// With -relay-max-rooms 1, the first room past its talker's mesh gets the
// relay; a second room's watcher past its talker's mesh is refused as
// full, as with -relay off, while the first room's relay still runs.
func TestRelayMaxRooms(t *testing.T) {
	url, _ := startServe(t, "-relay", "auto", "-relay-max-rooms", "1")
	onAirFromFiles(t, url, "first", 1)
	stats, errs := watchAll(t, url, "first", 2)
	via := map[string]int{}
	for i, st := range stats {
		if errs[i] != nil || st.Frames == 0 {
			t.Fatalf("first room, watcher %d: %+v, %v", i, st, errs[i])
		}
		via[st.Via]++
	}
	if via[viewer.ViaRelay] != 1 {
		t.Fatalf("first room: watchers by way %v, want one via the relay", via)
	}

	onAirFromFiles(t, url, "second", 1)
	stats, errs = watchAll(t, url, "second", 2)
	checkOneDirectOneFull(t, "second room (no relay past -relay-max-rooms)", stats, errs)
}

// A server that cannot start (a bad -redis) releases the relays' UDP port
// it had already taken.
func TestFailedStartFreesTheRelayPort(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
	_ = pc.Close()
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-metrics-addr", "off", "-relay-udp-port", port, "-redis", "redis://127.0.0.1:6379/not-a-db"}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-redis") {
		t.Fatalf("run = %v, want the -redis error", err)
	}
	n, _ := strconv.Atoi(port)
	again, err := relay.NewEngine(relay.Config{UDPPort: n})
	if err != nil {
		t.Fatalf("the relay port %s is still taken: %v", port, err)
	}
	_ = again.Close()
}

// videoStream is what ffprobe reads of a recording's video stream.
type videoStream struct {
	codec         string
	width, height int
	frames        int
}

// probeVideo reads the first video stream of path with ffprobe, counting
// its frames by decoding them.
func probeVideo(t *testing.T, path string) videoStream {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "default=nw=1", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	var v videoStream
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, val, _ := strings.Cut(line, "=")
		switch k {
		case "codec_name":
			v.codec = val
		case "width":
			v.width, _ = strconv.Atoi(val)
		case "height":
			v.height, _ = strconv.Atoi(val)
		case "nb_read_frames":
			v.frames, _ = strconv.Atoi(val)
		}
	}
	return v
}

// With -relay always, the relay forwards H.264 and VP9 as it does VP8:
// each of two Go watchers records 2 s from the relay, and the recording
// decodes as the talker's codec at its 320x240, with at least 80% of its
// 30 fps (the first frames wait for a keyframe); so does a third watcher's,
// which comes once the relay forwards mid-stream.
func TestRelayForwardsH264AndVP9(t *testing.T) {
	media := testmedia.Make(t, 3)
	for _, tc := range []struct {
		name, video, ext, codec string
	}{
		{"H.264", media.H264, ".mkv", "h264"},
		{"VP9", media.VP9, ".webm", "vp9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := startServe(t, "-relay", "always")
			onAir(t, broadcaster.Options{Server: url, Room: "codec", Video: tc.video, Audio: media.Opus, MaxWatchers: 1})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			const watchers = 2
			dir := t.TempDir()
			paths := make([]string, watchers)
			stats, errs := make([]viewer.Stats, watchers), make([]error, watchers)
			var wg sync.WaitGroup
			for i := range watchers {
				paths[i] = filepath.Join(dir, "w"+strconv.Itoa(i)+tc.ext)
				wg.Go(func() {
					stats[i], errs[i] = viewer.New(viewer.Options{Server: url, Room: "codec", Duration: 2 * time.Second, WaitTalker: 30 * time.Second, Record: paths[i]}).Run(ctx)
				})
			}
			wg.Wait()
			for i, st := range stats {
				if errs[i] != nil || st.Via != viewer.ViaRelay || st.Frames == 0 {
					t.Errorf("watcher %d: %+v, %v; want frames via the relay", i, st, errs[i])
					continue
				}
				v := probeVideo(t, paths[i])
				t.Logf("watcher %d recorded %+v", i, v)
				if v.codec != tc.codec || v.width != 320 || v.height != 240 || v.frames < 48 {
					t.Errorf("watcher %d recorded %+v, want %s 320x240 with at least 48 frames", i, v, tc.codec)
				}
			}

			// A watcher that comes once the relay forwards mid-stream
			// starts on a keyframe: the talker's files have one a second,
			// so it records at least the last second.
			late := filepath.Join(dir, "late"+tc.ext)
			st, err := viewer.New(viewer.Options{Server: url, Room: "codec", Duration: 2 * time.Second, WaitTalker: 30 * time.Second, Record: late}).Run(ctx)
			if err != nil || st.Via != viewer.ViaRelay || st.Frames == 0 {
				t.Fatalf("late watcher: %+v, %v; want frames via the relay", st, err)
			}
			v := probeVideo(t, late)
			t.Logf("late watcher recorded %+v", v)
			if v.codec != tc.codec || v.width != 320 || v.height != 240 || v.frames < 24 {
				t.Errorf("late watcher recorded %+v, want %s 320x240 with at least 24 frames", v, tc.codec)
			}
		})
	}
}

// Two nodes over Redis: the talker on node A serves one watcher itself
// (-max-watchers 1), and of three watchers on node B (-relay auto) one is
// served directly and two through the room's relay, which runs on A, the
// talker's node.
func TestRelayAcrossNodes(t *testing.T) {
	rs := redistest.Start(t)
	la, _ := startServeAddrs(t, "-redis", rs.URL(), "-relay", "auto")
	lb, _ := startServeAddrs(t, "-redis", rs.URL(), "-relay", "auto")
	a, b := "http://"+la.Addr.String(), "http://"+lb.Addr.String()
	talker := onAirFromFiles(t, a, "hall", 1)
	stats, errs := watchAll(t, b, "hall", 3)
	checkOneDirectTwoRelayed(t, talker, stats, errs)
	// The relay ran on A, the talker's node, and started the two watchers'
	// video there; B ran none.
	checkStarted(t, la, 2, lb, 0)
}

// With -relay always across two nodes, every watcher, on A and on B, is
// served by the relay on A, the talker's node.
func TestRelayAlwaysAcrossNodes(t *testing.T) {
	rs := redistest.Start(t)
	la, _ := startServeAddrs(t, "-redis", rs.URL(), "-relay", "always")
	lb, _ := startServeAddrs(t, "-redis", rs.URL(), "-relay", "always")
	a, b := "http://"+la.Addr.String(), "http://"+lb.Addr.String()
	onAirFromFiles(t, a, "hall", 1)
	stats, errs := watchOn(t, "hall", a, b, b)
	for i, st := range stats {
		if errs[i] != nil || st.Frames == 0 || st.Via != viewer.ViaRelay {
			t.Errorf("watcher %d: %+v, %v; want frames via the relay", i, st, errs[i])
		}
	}
	checkStarted(t, la, 3, lb, 0)
}

// When the talker on A leaves, the watchers the relay serves on B are
// told: they end as the talker or the relay leaving, not by their own
// deadline.
func TestRelayWatchersAcrossNodesEndWithTheTalker(t *testing.T) {
	rs := redistest.Start(t)
	a, _ := startServe(t, "-redis", rs.URL(), "-relay", "always")
	b, _ := startServe(t, "-redis", rs.URL(), "-relay", "always")
	media := testmedia.Make(t, 2)
	talker, err := broadcaster.New(broadcaster.Options{Server: a, Room: "hall", Video: media.VP8, Audio: media.Opus, MaxWatchers: 1})
	if err != nil {
		t.Fatal(err)
	}
	talkCtx, endTalk := context.WithCancel(context.Background())
	defer endTalk()
	talked := make(chan error, 1)
	go func() { talked <- talker.Run(talkCtx) }()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const watchers = 2
	live := make(chan struct{}, watchers)
	stats, errs := make([]viewer.Stats, watchers), make([]error, watchers)
	var wg sync.WaitGroup
	for i := range watchers {
		wg.Go(func() {
			stats[i], errs[i] = viewer.New(viewer.Options{Server: b, Room: "hall", WaitTalker: 30 * time.Second, OnLive: func() { live <- struct{}{} }}).Run(ctx)
		})
	}
	for range watchers {
		select {
		case <-live:
		case <-ctx.Done():
			t.Fatal("the watchers never saw a keyframe")
		}
	}
	endTalk()
	if err := <-talked; err != nil {
		t.Error(err)
	}
	wg.Wait()
	for i, st := range stats {
		if errs[i] != nil || st.Via != viewer.ViaRelay || (st.Ended != "talker_left" && st.Ended != "relay_left") {
			t.Errorf("watcher %d: %+v, %v; want it ended by the talker or the relay leaving", i, st, errs[i])
		}
	}
}

// A relay watcher whose signaling node restarts keeps its media: it
// reconnects to the node under a new socket id and resumes the relay's
// media session (on A, the talker's node), on the PeerConnection it has.
func TestRelayWatcherResumesAcrossItsNodeRestart(t *testing.T) {
	rs := redistest.Start(t)
	la, _ := startServeAddrs(t, "-redis", rs.URL(), "-relay", "always")
	lb, stopB := startServeAddrs(t, "-redis", rs.URL(), "-relay", "always")
	a, b := "http://"+la.Addr.String(), "http://"+lb.Addr.String()
	onAirFromFiles(t, a, "hall", 1)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vctx, stopViewer := context.WithCancel(ctx)
	defer stopViewer()
	log := logtest.New()
	type result struct {
		st  viewer.Stats
		err error
	}
	viewed := make(chan result, 1)
	go func() {
		st, err := viewer.New(viewer.Options{Server: b, Room: "hall", WaitTalker: 30 * time.Second, Logger: log.Logger()}).Run(vctx)
		viewed <- result{st, err}
	}()
	log.Wait(t, "live")
	stopB()
	startServeAddrs(t, "-redis", rs.URL(), "-relay", "always", "-addr", lb.Addr.String())
	log.Wait(t, "session resumed")
	stopViewer()
	r := <-viewed
	if r.err != nil || r.st.Via != viewer.ViaRelay || r.st.Ended != "stopped" || r.st.Frames == 0 {
		t.Fatalf("viewer: %+v, %v", r.st, r.err)
	}
	if got, want := log.Phases(), "waiting > connecting > live > resuming > live > ended"; got != want {
		t.Errorf("watcher phases %q, want %q", got, want)
	}
	// One PeerConnection from the relay all along: one watcher started.
	code, body, _ := get(t, "http://"+la.Metrics.String()+"/metrics")
	if want := "broadcast_relay_watchers_started_total 1\n"; code != 200 || !strings.Contains(body, want) {
		t.Errorf("A's /metrics: %d, want %q in\n%s", code, want, body)
	}
}
