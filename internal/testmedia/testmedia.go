// Package testmedia makes media files for tests with Debian's ffmpeg: a
// moving test card and a tone, so no large binaries are committed.
package testmedia

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Files are generated media files.
type Files struct {
	VP8, VP9, H264, Opus string
	Frames               int // video frames in each video file
}

// Make writes seconds of 320x240 video at 30 fps, one keyframe a second,
// as VP8 and VP9 IVF and H.264 Annex B, and a 440 Hz Opus tone in Ogg (20 ms
// pages), into a directory the test removes.
func Make(t testing.TB, seconds int) Files {
	t.Helper()
	return MakeSized(t, seconds, 320, 240)
}

// MakeSized is Make with video of width x height pixels: small pictures
// keep tests with many peers light.
func MakeSized(t testing.TB, seconds, width, height int) Files {
	t.Helper()
	dir := t.TempDir()
	f := Files{
		VP8: filepath.Join(dir, "v.ivf"), VP9: filepath.Join(dir, "v9.ivf"),
		H264: filepath.Join(dir, "v.h264"), Opus: filepath.Join(dir, "a.ogg"),
		Frames: 30 * seconds,
	}
	secs := strconv.Itoa(seconds)
	card := []string{"-f", "lavfi", "-i", "testsrc=size=" + strconv.Itoa(width) + "x" + strconv.Itoa(height) + ":rate=30", "-t", secs, "-g", "30", "-pix_fmt", "yuv420p"}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
		}
	}
	run(append(card, "-c:v", "libvpx", "-b:v", "600k", "-deadline", "realtime", f.VP8)...)
	run(append(card, "-c:v", "libvpx-vp9", "-b:v", "600k", "-deadline", "realtime", "-cpu-used", "8", f.VP9)...)
	run(append(card, "-c:v", "libx264", "-profile:v", "baseline", "-bsf:v", "h264_mp4toannexb", "-f", "h264", f.H264)...)
	run("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", secs, "-c:a", "libopus", "-page_duration", "20000", f.Opus)
	return f
}
