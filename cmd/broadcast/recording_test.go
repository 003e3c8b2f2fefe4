package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/logtest"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/signaling"
)

// recordingState is a room's recording as the endpoints answer it.
type recordingState struct {
	Recording bool
	File      string
	Bytes     int64
}

// recordingCall sends method to url's /rooms/{room}/recording with token
// (if not "") and returns the state it answers.
func recordingCall(t *testing.T, method, url, room, token string) recordingState {
	t.Helper()
	resp, body := whipDo(t, method, url+"/rooms/"+room+"/recording", "", token, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s recording: %d %s", method, resp.StatusCode, body)
	}
	var st recordingState
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("%s recording: %q: %v", method, body, err)
	}
	return st
}

// recordFor starts room's recording on url, lets it record for d once its
// file is begun, stops it and returns the file's path in dir.
func recordFor(t *testing.T, url, room, token, dir string, d time.Duration) string {
	t.Helper()
	if st := recordingCall(t, http.MethodPut, url, room, token); !st.Recording {
		t.Fatalf("PUT: %+v", st)
	}
	waitRecorded(t, url, room, token)
	time.Sleep(d) // what is recorded: d of the broadcast
	st := recordingCall(t, http.MethodDelete, url, room, token)
	if st.Recording || st.File == "" {
		t.Fatalf("DELETE: %+v", st)
	}
	return filepath.Join(dir, st.File)
}

// waitRecorded waits until room's recording on url has frames in its file.
func waitRecorded(t *testing.T, url, room, token string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for st := recordingCall(t, http.MethodGet, url, room, token); st.Bytes == 0; st = recordingCall(t, http.MethodGet, url, room, token) {
		if time.Now().After(deadline) {
			t.Fatalf("nothing recorded in 30 s: %+v", st)
		}
		time.Sleep(50 * time.Millisecond) // polled: the first keyframe comes when it comes
	}
}

// probeRecording returns a recording's duration in seconds (its video's
// last timestamp: the file has no duration while it may grow) and its
// streams' codecs with their decoded frame (or packet) counts.
func probeRecording(t *testing.T, path string) (float64, map[string]int) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,nb_read_frames", "-of", "json", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	var p struct {
		Streams []struct {
			Codec  string `json:"codec_name"`
			Frames string `json:"nb_read_frames"`
		}
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	streams := map[string]int{}
	for _, s := range p.Streams {
		streams[s.Codec], _ = strconv.Atoi(s.Frames)
	}
	out, err = exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	var dur float64
	for _, line := range strings.Fields(string(out)) {
		if v, err := strconv.ParseFloat(line, 64); err == nil {
			dur = max(dur, v)
		}
	}
	return dur, streams
}

// A Go talker's room and a WHIP publisher's room, each recorded on the
// server for 3 s through its relay: the file, named by the room, holds
// both tracks, lasts about as long, and has about the frames sent (30
// fps), VP8 in WebM and H.264 in Matroska; it is listed and downloads
// whole.
func TestRecordingGoTalkerAndWHIPPublisher(t *testing.T) {
	const seconds = 3
	for _, tc := range []struct{ name, codec, ext string }{
		{"Go talker", "vp8", ".webm"},
		{"WHIP publisher", "h264", ".mkv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			url, _ := startServe(t, "-record-dir", dir)
			room := "lecture hall " + tc.codec
			if tc.name == "Go talker" {
				onAirFromFiles(t, url, room, 1)
			} else {
				whipPublish(t, url, strings.ReplaceAll(room, " ", "%20"), tc.codec, "")
			}
			waitOnAir(t, url, room)
			escaped := strings.ReplaceAll(room, " ", "%20")
			path := recordFor(t, url, escaped, "", dir, seconds*time.Second)
			if filepath.Ext(path) != tc.ext || !strings.HasPrefix(filepath.Base(path), "lecture%20hall%20"+tc.codec+"_") {
				t.Errorf("recorded into %s", filepath.Base(path))
			}
			dur, streams := probeRecording(t, path)
			t.Logf("%s: %.2f s, %v", filepath.Base(path), dur, streams)
			if dur < seconds-0.5 || dur > seconds+3 {
				t.Errorf("duration %.2f s, want about %d s", dur, seconds)
			}
			if v := streams[tc.codec]; float64(v) < 0.8*30*dur || float64(v) > 1.1*30*dur+30 {
				t.Errorf("%d %s frames in %.2f s, want about 30 a second", v, tc.codec, dur)
			}
			if a := streams["opus"]; float64(a) < 0.8*50*dur {
				t.Errorf("%d Opus packets in %.2f s, want about 50 a second", a, dur)
			}

			resp, body := whipDo(t, http.MethodGet, url+"/recordings?room="+escaped, "", "", "")
			var list []struct {
				Name, Room string
				Bytes      int64
			}
			if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != 200 || len(list) != 1 || list[0].Name != filepath.Base(path) || list[0].Room != room {
				t.Fatalf("listing: %d %s", resp.StatusCode, body)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			resp, body = whipDo(t, http.MethodGet, url+"/recordings/"+strings.ReplaceAll(list[0].Name, "%", "%25"), "", "", "")
			if resp.StatusCode != 200 || int64(len(body)) != fi.Size() || list[0].Bytes != fi.Size() {
				t.Errorf("download: %d, %d bytes of %d (listed %d)", resp.StatusCode, len(body), fi.Size(), list[0].Bytes)
			}
		})
	}
}

// waitOnAir waits until the server at url has a talker on air (a Go
// talker's talk_ready heard, a WHIP session up), by /healthz.
func waitOnAir(t *testing.T, url, room string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if healthOf(t, url).OnAir > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("room %q not on air in 30 s", room)
		}
		time.Sleep(50 * time.Millisecond) // polled: the talker goes on air when it does
	}
}

// The recording endpoints in a keyed server need the room's talk key; a
// room with no talker on air is not recorded; a name that is no
// recording is not served.
func TestRecordingRefusals(t *testing.T) {
	dir := t.TempDir()
	url, _ := startServe(t, "-record-dir", dir, "-talk-secret", "rec-secret")
	keys := signaling.NewKeys([]byte("rec-secret"))
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a recording"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what, method, path, token string
		status                    int
		code                      string
	}{
		{"no key", http.MethodPut, "/rooms/lab/recording", "", 401, "token_needed"},
		{"another room's key", http.MethodPut, "/rooms/lab/recording", keys.TalkKey("other"), 403, "bad_key"},
		{"no talker on air", http.MethodPut, "/rooms/lab/recording", keys.TalkKey("lab"), 409, "not_on_air"},
		{"a listing of every room", http.MethodGet, "/recordings", "", 401, "token_needed"},
		{"another file", http.MethodGet, "/recordings/notes.txt", keys.TalkKey("lab"), 404, "no_recording"},
		{"a path out", http.MethodGet, "/recordings/..%2Fetc_20260101T000000Z.webm", keys.TalkKey(".."), 404, "no_recording"},
	} {
		resp, body := whipDo(t, tc.method, url+tc.path, "", tc.token, "")
		wantStatus(t, tc.what, resp, body, tc.status, tc.code)
	}
	if st := recordingCall(t, http.MethodGet, url, "lab", keys.TalkKey("lab")); st.Recording {
		t.Errorf("state %+v", st)
	}
}

// cutter is a TCP proxy to a server that can cut every connection through
// it: a client's signaling lost, as on a network change, with its media
// (which does not pass it) going on.
type cutter struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

// newCutter proxies a listener of its own to addr until the test ends.
func newCutter(t *testing.T, addr string) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln}
	t.Cleanup(func() { _ = ln.Close(); c.cut() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", addr)
			if err != nil {
				_ = in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
			go func() { _, _ = io.Copy(in, out); _ = in.Close() }()
		}
	}()
	return c
}

// url is the proxy's base URL.
func (c *cutter) url() string { return "http://" + c.ln.Addr().String() }

// cut closes every connection through the proxy.
func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

// A recording survives its talker reconnecting: the Go talker's signaling
// is cut mid-recording and it comes back under a new socket id, its media
// to the relay resumed; the room's one file goes on with no gap in its
// video.
func TestRecordingSurvivesTheTalkerReconnecting(t *testing.T) {
	dir := t.TempDir()
	l, _ := startServeAddrs(t, "-record-dir", dir)
	url := "http://" + l.Addr.String()
	proxy := newCutter(t, l.Addr.String())
	log := logtest.New()
	onAir(t, broadcaster.Options{Server: proxy.url(), Room: "hall", Video: testmedia.Make(t, 2).VP8, Audio: testmedia.Make(t, 2).Opus, MaxWatchers: 1, Logger: log.Logger()})
	waitOnAir(t, url, "hall")
	if st := recordingCall(t, http.MethodPut, url, "hall", ""); !st.Recording {
		t.Fatalf("PUT: %+v", st)
	}
	waitRecorded(t, url, "hall", "")
	log.Wait(t, "relay joined")
	proxy.cut()
	log.Wait(t, "watcher resumed") // the relay, back on the talker's new socket
	time.Sleep(2 * time.Second)    // what is recorded after the talker is back
	st := recordingCall(t, http.MethodDelete, url, "hall", "")
	files, err := filepath.Glob(filepath.Join(dir, "hall_*"))
	if err != nil || len(files) != 1 || filepath.Base(files[0]) != st.File {
		t.Fatalf("recordings %v (stopped %+v), want the one file", files, st)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", files[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var last, gap float64
	n := 0
	for i, line := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(line, 64)
		if err != nil {
			continue
		}
		if i > 0 {
			gap = max(gap, v-last)
		}
		last, n = v, n+1
	}
	t.Logf("%s: %d frames over %.2f s, the longest gap %.0f ms", st.File, n, last, gap*1000)
	if gap > 0.5 || n < 30 {
		t.Errorf("%d frames, the longest gap %.0f ms: want no gap over 500 ms", n, gap*1000)
	}
}
