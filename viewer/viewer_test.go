package viewer_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/logtest"
	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/internal/talkertest"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
	"github.com/broadcast-service/broadcast/viewer"
)

// serve starts a signaling server on loopback for the test.
func serve(t *testing.T) string {
	t.Helper()
	url, _ := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	return url
}

// onAir runs a Go talker until the test ends; stop ends it early.
func onAir(t *testing.T, url, room string, media testmedia.Files, maxWatchers int) (*broadcaster.Broadcaster, func() error) {
	t.Helper()
	return talkertest.OnAir(t, broadcaster.Options{Server: url, Room: room, Video: media.VP8, Audio: media.Opus, MaxWatchers: maxWatchers})
}

// lines is a Writer that passes each line written on a channel.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	for _, s := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		select {
		case l <- s:
		default:
		}
	}
	return len(p), nil
}

// probe returns the video frames ffprobe decodes in a file, the span of
// their timestamps (first to last, plus one frame at 30 fps) and their size.
func probe(t *testing.T, path string) (frames int, seconds float64, width, height int) {
	t.Helper()
	ffprobe := func(args ...string) string {
		out, err := exec.Command("ffprobe", append([]string{"-v", "error", "-select_streams", "v:0"}, append(args, path)...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe %v %s: %v\n%s", args, path, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, line := range strings.Split(ffprobe("-count_frames", "-show_entries", "stream=nb_read_frames,width,height", "-of", "default=nw=1"), "\n") {
		k, val, _ := strings.Cut(line, "=")
		switch k {
		case "nb_read_frames":
			frames, _ = strconv.Atoi(val)
		case "width":
			width, _ = strconv.Atoi(val)
		case "height":
			height, _ = strconv.Atoi(val)
		}
	}
	pts := strings.Fields(ffprobe("-show_entries", "frame=pts_time", "-of", "csv=p=0"))
	if len(pts) > 1 {
		first, _ := strconv.ParseFloat(pts[0], 64)
		last, _ := strconv.ParseFloat(pts[len(pts)-1], 64)
		seconds = last - first + 1.0/30
	}
	return frames, seconds, width, height
}

func TestGoTalkerToGoWatcherRecording(t *testing.T) {
	media := testmedia.Make(t, 3)
	t.Run("VP8", func(t *testing.T) { recordFrom(t, media, media.VP8) })
	t.Run("VP9", func(t *testing.T) { recordFrom(t, media, media.VP9) })
}

// recordFrom puts a Go talker on air from video and records it with a Go
// watcher for 4 s; ffprobe must count at least 90% of the source's 30 fps.
func recordFrom(t *testing.T, media testmedia.Files, video string) {
	url := serve(t)
	media.VP8 = video
	b, _ := onAir(t, url, "studio", media, 10)
	out := filepath.Join(t.TempDir(), "out.webm")
	data := make(lines, 16)
	live := make(chan struct{})
	v := viewer.New(viewer.Options{Server: url, Room: "studio", Record: out, Duration: 4 * time.Second, Data: data, OnLive: func() { close(live) }})
	type result struct {
		st  viewer.Stats
		err error
	}
	done := make(chan result, 1)
	go func() { st, err := v.Run(context.Background()); done <- result{st, err} }()
	<-live
	// The data channel opens about when media flows: send until it arrives.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for got := false; !got; {
		select {
		case line := <-data:
			got = line == "hello from the studio"
		case <-tick.C:
			_ = b.Send("hello from the studio")
		case <-time.After(5 * time.Second):
			t.Fatal("no data channel message")
		}
	}
	r := <-done
	st, err := r.st, r.err
	if err != nil {
		t.Fatal(err)
	}
	if st.Ended != "duration" || st.Frames < 90 || st.Bytes == 0 || st.Bitrate <= 0 || st.TimeToFirstFrameMS <= 0 || st.PLIs == 0 {
		t.Errorf("stats %+v", st)
	}
	frames, secs, w, h := probe(t, out)
	want := int(0.9 * secs * 30)
	if secs < 3 || frames < want || w != 320 || h != 240 {
		t.Errorf("recording: %d frames of %dx%d over %.2fs; want at least %d (90%% of 30 fps) of 320x240", frames, w, h, secs, want)
	}
	t.Logf("recorded %d frames in %.2fs; stats %+v", frames, secs, st)
}

func TestH264IntoMatroska(t *testing.T) {
	media := testmedia.Make(t, 3)
	url := serve(t)
	b, err := broadcaster.New(broadcaster.Options{Server: url, Room: "h264", Video: media.H264, Audio: media.Opus})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() { cancel(); <-done }()
	out := filepath.Join(t.TempDir(), "out.mkv")
	st, err := viewer.New(viewer.Options{Server: url, Room: "h264", Record: out, Duration: 3 * time.Second}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	frames, secs, w, h := probe(t, out)
	want := int(0.9 * secs * 30)
	if secs < 2 || frames < want || w != 320 || h != 240 {
		t.Errorf("recording: %d frames of %dx%d over %.2fs; want at least %d of 320x240", frames, w, h, secs, want)
	}
	t.Logf("H.264: recorded %d frames in %.2fs; stats %+v", frames, secs, st)
	if _, err := viewer.New(viewer.Options{Server: url, Room: "h264", Record: filepath.Join(t.TempDir(), "out.webm"), Duration: time.Second}).Run(context.Background()); !errors.Is(err, viewer.ErrUnsupportedCodec) {
		t.Errorf("H.264 into WebM: %v, want ErrUnsupportedCodec", err)
	}
}

func TestCapAndTalkerExit(t *testing.T) {
	media := testmedia.Make(t, 2)
	url := serve(t)
	_, stop := onAir(t, url, "small", media, 2)
	type result struct {
		st  viewer.Stats
		err error
	}
	results := make(chan result, 2)
	live := make(chan struct{}, 2)
	for range 2 {
		go func() {
			v := viewer.New(viewer.Options{Server: url, Room: "small", OnLive: func() { live <- struct{}{} }})
			st, err := v.Run(context.Background())
			results <- result{st, err}
		}()
	}
	for range 2 {
		select {
		case <-live:
		case <-time.After(20 * time.Second):
			t.Fatal("watchers not served")
		}
	}
	_, err := viewer.New(viewer.Options{Server: url, Room: "small"}).Run(context.Background())
	if !errors.Is(err, viewer.ErrRoomFull) {
		t.Fatalf("third watcher: %v, want ErrRoomFull", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("talker: %v", err)
	}
	for range 2 {
		r := <-results
		if r.err != nil || r.st.Ended != "talker_left" || r.st.Frames == 0 {
			t.Errorf("watcher after the talker left: %+v, %v", r.st, r.err)
		}
	}
}

// reports records the viewer reports the hub folds.
type reports struct {
	noObserver
	c chan protocol.Report
}

type noObserver struct{}

func (noObserver) Routed(string, int, int) {}
func (noObserver) Refused(string)          {}
func (noObserver) Evicted(string)          {}

func (r reports) ViewerReport(rep protocol.Report) { r.c <- rep }

func TestQualityReports(t *testing.T) {
	media := testmedia.Make(t, 2)
	obs := reports{c: make(chan protocol.Report, 100)}
	url, _ := sigtest.Start(t, signaling.Options{Observer: obs}, signaling.ServerOptions{})
	onAir(t, url, "rated", media, 10)
	v := viewer.New(viewer.Options{Server: url, Room: "rated", Duration: 2 * time.Second, ReportEvery: 300 * time.Millisecond})
	if _, err := v.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case r := <-obs.c:
			if r.Bitrate != nil && *r.Bitrate > 0 && r.FPS != nil && *r.FPS > 10 {
				return
			}
		default:
			t.Fatal("no report with a bitrate and 10+ fps reached the hub")
		}
	}
}

func TestNoTalkerAndUnreachable(t *testing.T) {
	url := serve(t)
	_, err := viewer.New(viewer.Options{Server: url, Room: "empty", WaitTalker: 500 * time.Millisecond}).Run(context.Background())
	if !errors.Is(err, viewer.ErrNoTalker) {
		t.Errorf("empty room: %v, want ErrNoTalker", err)
	}
	_, err = viewer.New(viewer.Options{Server: "http://127.0.0.1:1", Room: "r", DialTimeout: time.Second}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("unreachable server: %v", err)
	}
}

// A talker whose connection to the server is lost (its node restarting,
// say) comes back under a new socket id and says talk_ready again; a
// watcher asking then is served.
func TestTalkerReconnects(t *testing.T) {
	media := testmedia.Make(t, 2)
	url, hub := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	w := sigtest.Enter(t, url, protocol.EnterRequest{Room: "moving", Role: protocol.RoleWatcher})
	onAir(t, url, "moving", media, 10)
	first := w.Next(protocol.TypeTalkReady).From
	hub.Kick(first, signaling.ErrSlowConsumer) // the server drops the talker's socket
	second := w.Next(protocol.TypeTalkReady).From
	if second == first {
		t.Fatalf("talk_ready again from %q, want a new socket id", second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := viewer.New(viewer.Options{Server: url, Room: "moving", Duration: time.Second}).Run(ctx)
	if err != nil || st.Ended != "duration" || st.Frames == 0 {
		t.Fatalf("watcher of the reconnected talker: %+v, %v", st, err)
	}
}

// The watcher's socket, then the talker's, is dropped by the server: each
// comes back under a new id and the watcher resumes the media session it
// has, with no new PeerConnection, and records on.
func TestSessionResumedAcrossReconnects(t *testing.T) {
	media := testmedia.Make(t, 2)
	url, hub := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	talkLog, viewLog := logtest.New(), logtest.New()
	b, err := broadcaster.New(broadcaster.Options{Server: url, Room: "resume", Video: media.VP8, Audio: media.Opus, Logger: talkLog.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	talkDone := make(chan error, 1)
	go func() { talkDone <- b.Run(ctx) }()
	talkLog.Wait(t, "on air")

	rec := filepath.Join(t.TempDir(), "resumed.webm")
	vctx, stopViewer := context.WithCancel(ctx)
	type result struct {
		st  viewer.Stats
		err error
	}
	viewed := make(chan result, 1)
	go func() {
		st, err := viewer.New(viewer.Options{Server: url, Room: "resume", Record: rec, Logger: viewLog.Logger()}).Run(vctx)
		viewed <- result{st, err}
	}()
	viewLog.Wait(t, "live")
	members := hub.Members("resume") // the talker entered first
	if len(members) != 2 {
		t.Fatalf("room members %v, want the talker and the watcher", members)
	}
	talker, watcher := members[0], members[1]

	hub.Kick(watcher, signaling.ErrSlowConsumer)
	if line := talkLog.Wait(t, "watcher resumed"); !strings.Contains(line, "was="+watcher) {
		t.Errorf("resumed: %s, want the watcher that was %s", line, watcher)
	}
	viewLog.Wait(t, "session resumed")

	hub.Kick(talker, signaling.ErrSlowConsumer)
	talkLog.Wait(t, "watcher resumed")
	viewLog.Wait(t, "session resumed")
	if n := b.Watchers(); n != 1 {
		t.Errorf("talker serves %d watchers, want 1", n)
	}

	stopViewer()
	r := <-viewed
	if r.err != nil || r.st.Ended != "stopped" || r.st.Frames == 0 {
		t.Fatalf("viewer: %+v, %v", r.st, r.err)
	}
	frames, _, _, _ := probe(t, rec)
	if int64(frames) < r.st.Frames*9/10 {
		t.Errorf("recording holds %d frames of the %d received", frames, r.st.Frames)
	}
	cancel()
	if err := <-talkDone; err != nil {
		t.Errorf("talker: %v", err)
	}
	// The watcher's phases, one move at a time: its own socket back, then
	// the talker away and back.
	const want = "waiting > connecting > live > resuming > live > talker away > resuming > live > ended"
	if got := viewLog.Phases(); got != want {
		t.Errorf("watcher phases %q, want %q", got, want)
	}
	// One PeerConnection for the watcher all along: joined once, resumed twice.
	if joined, resumed := talkLog.Times("watcher joined"), talkLog.Times("watcher resumed"); joined != 1 || resumed != 2 {
		t.Errorf("the talker logged %d joins and %d resumes, want 1 and 2", joined, resumed)
	}
}
