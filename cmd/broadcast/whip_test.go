package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/signaling"
	"github.com/broadcast-service/broadcast/viewer"
)

// whipPublish runs scripts/whip-publish.sh (Debian's whip-client, a WHIP
// client the project did not write) publishing a test pattern in codec
// (vp8 or h264) to url's room, with token if not "". It is killed when
// the test ends; its output goes to the test's log if the test fails.
func whipPublish(t *testing.T, url, room, codec, token string) *exec.Cmd {
	t.Helper()
	args := []string{url + "/whip/" + room, codec}
	if token != "" {
		args = append(args, token)
	}
	cmd := exec.Command("../../scripts/whip-publish.sh", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("whip-client:\n%s", out.String())
		}
	})
	return cmd
}

// probeCodecs returns the codec of each stream of path, by ffprobe.
func probeCodecs(t *testing.T, path string) []string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	return strings.Fields(string(out))
}

// health is the server at url's /healthz: its rooms, and those on air.
type health struct {
	Rooms int
	OnAir int `json:"on_air"`
}

func healthOf(t *testing.T, url string) health {
	t.Helper()
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// roomsOn returns how many rooms the server at url has, by /healthz.
func roomsOn(t *testing.T, url string) int { return healthOf(t, url).Rooms }

// A WHIP publisher is its room's talker: Debian's whip-client publishes a
// test pattern over WHIP to a server on its defaults (-relay auto), and a
// Go watcher records it through the relay, the publisher's codec at its
// 640x360, with its sound; the client interrupted ends its session
// (DELETE), and the room with it.
func TestWHIPPublisherIsTheRoomsTalker(t *testing.T) {
	for _, tc := range []struct{ codec, ext, want string }{
		{"vp8", ".webm", "vp8"},
		{"h264", ".mkv", "h264"},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			url, _ := startServe(t)
			client := whipPublish(t, url, "studio", tc.codec, "")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			path := filepath.Join(t.TempDir(), "watched"+tc.ext)
			st, err := viewer.New(viewer.Options{Server: url, Room: "studio", Duration: 2 * time.Second, WaitTalker: 30 * time.Second, Record: path}).Run(ctx)
			if err != nil || st.Via != viewer.ViaRelay || st.Frames == 0 {
				t.Fatalf("watcher: %+v, %v; want frames via the relay", st, err)
			}
			v := probeVideo(t, path)
			t.Logf("recorded %+v, streams %v", v, probeCodecs(t, path))
			if v.codec != tc.want || v.width != 640 || v.height != 360 || v.frames < 45 {
				t.Errorf("recorded %+v, want %s 640x360 with at least 45 frames (2 s at 30 fps, from a keyframe)", v, tc.want)
			}
			if codecs := probeCodecs(t, path); !strings.Contains(strings.Join(codecs, " "), "opus") {
				t.Errorf("recorded streams %v, want the publisher's Opus too", codecs)
			}

			if err := client.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			_ = client.Wait()
			waitNoRooms(t, url)
		})
	}
}

// waitNoRooms waits until the server at url has no room left: its talker
// and then its relay gone.
func waitNoRooms(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for roomsOn(t, url) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the room outlived its WHIP session by 20 s")
		}
		time.Sleep(50 * time.Millisecond) // polled: the relay leaves on its own goroutine
	}
}

// offerSDP is a publisher's SDP offer from pion: a VP8 video and an Opus
// audio section, sending (or, with recvonly, receiving) only.
func offerSDP(t *testing.T, direction webrtc.RTPTransceiverDirection) (string, *webrtc.PeerConnection) {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: direction}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	return offer.SDP, pc
}

// whipDo sends a WHIP request and returns its response, its body read.
func whipDo(t *testing.T, method, url, contentType, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// wantStatus checks a response's status and its error body's code.
func wantStatus(t *testing.T, what string, resp *http.Response, body string, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: %d %s, want %d", what, resp.StatusCode, body, status)
		return
	}
	if code == "" {
		return
	}
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != code || e.Message == "" {
		t.Errorf("%s: body %q, want code %q with a message", what, body, code)
	}
}

// The WHIP endpoint's session on a keyed server: the talk key as bearer
// token, 201 with the answer (the relay's candidates in it), Location and
// ETag; trickled candidates taken (204), an ICE restart refused (422),
// another token refused (403); DELETE ends it, and the room with it; then
// the session is gone (404).
func TestWHIPSession(t *testing.T) {
	url, _ := startServe(t, "-talk-secret", "studio-secret", "-turn-urls", "turn:127.0.0.1:9?transport=udp", "-turn-secret", "turn-secret")
	key := signaling.NewKeys([]byte("studio-secret")).TalkKey("lab")
	offer, _ := offerSDP(t, webrtc.RTPTransceiverDirectionSendonly)

	resp, answer := whipDo(t, http.MethodPost, url+"/whip/lab", "application/sdp", key, offer)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	loc := resp.Header.Get("Location")
	if resp.Header.Get("Content-Type") != "application/sdp" || !strings.HasPrefix(loc, "/whip/lab/") || resp.Header.Get("ETag") == "" {
		t.Errorf("POST: headers %v", resp.Header)
	}
	if !strings.Contains(answer, "a=candidate:") || !strings.Contains(answer, "a=fingerprint:") {
		t.Errorf("the answer carries no candidate or no fingerprint:\n%s", answer)
	}
	// The TURN server, with the credentials the pages get (RFC 9725 §4.4).
	if links := resp.Header.Values("Link"); len(links) != 1 || !strings.HasPrefix(links[0], `<turn:127.0.0.1:9?transport=udp>; rel="ice-server"; username="`) || !strings.Contains(links[0], `credential-type="password"`) {
		t.Errorf("Link headers %q", links)
	}
	if roomsOn(t, url) != 1 {
		t.Error("no room on air")
	}

	frag := "a=ice-ufrag:" + iceUfrag(offer) + "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n"
	resp, body := whipDo(t, http.MethodPatch, url+loc, "application/trickle-ice-sdpfrag", key, frag)
	wantStatus(t, "PATCH candidates", resp, body, http.StatusNoContent, "")
	resp, body = whipDo(t, http.MethodPatch, url+loc, "application/trickle-ice-sdpfrag", key, "a=ice-ufrag:restart\r\na=ice-pwd:restartrestartrestartrestart\r\n")
	wantStatus(t, "PATCH ICE restart", resp, body, http.StatusUnprocessableEntity, "unprocessable")
	resp, body = whipDo(t, http.MethodPatch, url+loc, "application/trickle-ice-sdpfrag", "not-the-key", frag)
	wantStatus(t, "PATCH another token", resp, body, http.StatusForbidden, "bad_key")
	resp, body = whipDo(t, http.MethodPatch, url+loc, "application/sdp", key, frag)
	wantStatus(t, "PATCH as SDP", resp, body, http.StatusUnsupportedMediaType, "unsupported_media_type")

	resp, body = whipDo(t, http.MethodDelete, url+loc, "", key, "")
	wantStatus(t, "DELETE", resp, body, http.StatusOK, "")
	waitNoRooms(t, url)
	resp, body = whipDo(t, http.MethodDelete, url+loc, "", key, "")
	wantStatus(t, "DELETE again", resp, body, http.StatusNotFound, "no_session")
}

// iceUfrag is an SDP's first ice-ufrag.
func iceUfrag(sdp string) string {
	_, rest, _ := strings.Cut(sdp, "a=ice-ufrag:")
	u, _, _ := strings.Cut(rest, "\r\n")
	return u
}

// Each refusal of the WHIP endpoint with its status and a body with a
// stable code: what the RFC and the room's state call for.
func TestWHIPRefusals(t *testing.T) {
	keyed, _ := startServe(t, "-talk-secret", "s3cret")
	keys := signaling.NewKeys([]byte("s3cret"))
	off, _ := startServe(t, "-relay", "off")
	offer, _ := offerSDP(t, webrtc.RTPTransceiverDirectionSendonly)
	receiving, _ := offerSDP(t, webrtc.RTPTransceiverDirectionRecvonly)

	// A room on air with a talker of the WHIP endpoint's.
	resp, body := whipDo(t, http.MethodPost, keyed+"/whip/taken", "application/sdp", keys.TalkKey("taken"), offer)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	second, _ := offerSDP(t, webrtc.RTPTransceiverDirectionSendonly)

	for _, tc := range []struct {
		what, url, contentType, token, body string
		status                              int
		code                                string
	}{
		{"no token", keyed + "/whip/lab", "application/sdp", "", offer, 401, "token_needed"},
		{"another room's key", keyed + "/whip/lab", "application/sdp", keys.TalkKey("other"), offer, 403, "bad_key"},
		{"a room with a talker", keyed + "/whip/taken", "application/sdp", keys.TalkKey("taken"), second, 409, "room_taken"},
		{"not SDP", keyed + "/whip/lab", "text/plain", keys.TalkKey("lab"), offer, 415, "unsupported_media_type"},
		{"bad SDP", keyed + "/whip/lab", "application/sdp", keys.TalkKey("lab"), "v=0\r\nnot sdp", 400, "bad_sdp"},
		{"an offer that only receives", keyed + "/whip/lab", "application/sdp", keys.TalkKey("lab"), receiving, 422, "unprocessable"},
		{"too large", keyed + "/whip/lab", "application/sdp", keys.TalkKey("lab"), offer + strings.Repeat("a=x\r\n", 20000), 413, "too_large"},
		{"a bad room name", keyed + "/whip/a%2Fb", "application/sdp", keys.TalkKey("a/b"), offer, 400, "bad_room"},
		{"no relay", off + "/whip/lab", "application/sdp", "", offer, 503, "no_relay"},
		{"no such session", keyed + "/whip/lab/nobody", "application/trickle-ice-sdpfrag", keys.TalkKey("lab"), "", 404, "no_session"},
	} {
		method := http.MethodPost
		if strings.HasSuffix(tc.url, "/nobody") {
			method = http.MethodPatch
		}
		resp, body := whipDo(t, method, tc.url, tc.contentType, tc.token, tc.body)
		wantStatus(t, tc.what, resp, body, tc.status, tc.code)
		if tc.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", tc.what)
		}
	}
}

// whepPlayer is a WHEP client of pion's: it offers to receive video and
// audio, with its candidates in the offer (it trickles none), takes the
// answer of a 201, and counts the video packets it gets.
type whepPlayer struct {
	pc      *webrtc.PeerConnection
	packets chan struct{}
}

func newWHEPPlayer(t *testing.T) (*whepPlayer, string) {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p := &whepPlayer{pc: pc, packets: make(chan struct{}, 1)}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			if tr.Kind() == webrtc.RTPCodecTypeVideo {
				select {
				case p.packets <- struct{}{}:
				default:
				}
			}
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return p, pc.LocalDescription().SDP
}

// A WHEP player watches through the relay as watch.html does: a Go talker
// on air serves one watcher itself (-max-watchers 1) and the player
// through the room's relay, started for it; the player gets video; DELETE
// ends its session, the relay lets it go, and the relay's cap counts it:
// with -relay-max-watchers 1 a second player is refused as full (503).
func TestWHEPPlayerWatchesThroughTheRelay(t *testing.T) {
	url, _ := startServe(t, "-relay-max-watchers", "1")
	onAirFromFiles(t, url, "cinema", 1)
	waitOnAir(t, url, "cinema")
	player, offer := newWHEPPlayer(t)
	resp, answer := whipDo(t, http.MethodPost, url+"/whep/cinema", "application/sdp", "", offer)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/whep/cinema/") || !strings.Contains(answer, "a=candidate:") {
		t.Fatalf("POST: Location %q, answer\n%s", loc, answer)
	}
	if err := player.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-player.packets:
	case <-time.After(30 * time.Second):
		t.Fatal("no video reached the player in 30 s")
	}

	_, second := newWHEPPlayer(t)
	resp, body := whipDo(t, http.MethodPost, url+"/whep/cinema", "application/sdp", "", second)
	wantStatus(t, "a player past the relay's cap", resp, body, http.StatusServiceUnavailable, "full")

	resp, body = whipDo(t, http.MethodDelete, url+loc, "", "", "")
	wantStatus(t, "DELETE", resp, body, http.StatusOK, "")
	third, offer3 := newWHEPPlayer(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, body = whipDo(t, http.MethodPost, url+"/whep/cinema", "application/sdp", "", offer3)
		if resp.StatusCode == http.StatusCreated || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // polled: the relay drops the first player on its goroutine
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("the place the deleted player left: %d %s", resp.StatusCode, body)
	}
	if err := third.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-third.packets:
	case <-time.After(30 * time.Second):
		t.Fatal("no video reached the third player in 30 s")
	}
}

// The WHEP endpoint refuses a room with no broadcast (404), a private
// room's player without its watch key (401), an offer that receives
// nothing (422), and everything with -relay off (503).
func TestWHEPRefusals(t *testing.T) {
	private, _ := startServe(t, "-talk-secret", "s3cret", "-private-rooms")
	off, _ := startServe(t, "-relay", "off")
	sending, _ := offerSDP(t, webrtc.RTPTransceiverDirectionSendonly)
	_, receiving := newWHEPPlayer(t)
	keys := signaling.NewKeys([]byte("s3cret"))
	onAir(t, broadcaster.Options{Server: private, Room: "film", Key: keys.TalkKey("film"), Video: testmedia.Make(t, 2).VP8, MaxWatchers: 1})
	waitOnAir(t, private, "film")
	for _, tc := range []struct {
		what, url, body string
		status          int
		code            string
	}{
		{"no broadcast", private + "/whep/empty", receiving, 404, "not_on_air"},
		{"no watch key", private + "/whep/film", receiving, 401, "token_needed"},
		{"an offer that only sends", private + "/whep/film", sending, 422, "unprocessable"},
		{"no relay", off + "/whep/film", receiving, 503, "no_relay"},
	} {
		resp, body := whipDo(t, http.MethodPost, tc.url, "application/sdp", "", tc.body)
		wantStatus(t, tc.what, resp, body, tc.status, tc.code)
	}
}
