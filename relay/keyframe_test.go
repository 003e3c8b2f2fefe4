package relay

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Watchers' PLIs and FIRs, the keyframe requests of watchers that join and
// those of watchers waiting for a keyframe merge into one request to the
// talker per interval.
func TestKeyframeRequests(t *testing.T) {
	type step struct {
		after   time.Duration
		watcher int    // which of 3 watchers acts
		do      string // "add", "pli", "fir", "pli-other", "inter", "key"
		want    int    // requests sent to the talker after the step
	}
	pli := func(ssrc uint32) []rtcp.Packet {
		return []rtcp.Packet{&rtcp.PictureLossIndication{SenderSSRC: 9, MediaSSRC: ssrc}}
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"joins merge", []step{{do: "add", want: 1}, {watcher: 1, do: "add", want: 1}, {after: 499 * time.Millisecond, watcher: 2, do: "add", want: 1}, {after: time.Millisecond, do: "add", want: 2}}},
		// Each watcher's own asks are limited to one per
		// watcherKeyframeInterval (see TestWatcherPLIsLimited).
		{"PLIs merge", []step{
			{do: "add", want: 1}, {do: "key", want: 1}, {watcher: 1, do: "add", want: 1}, {watcher: 2, do: "add", want: 1}, {do: "key", want: 1},
			{after: 100 * time.Millisecond, do: "pli", want: 1}, {watcher: 1, do: "pli", want: 1},
			{after: 400 * time.Millisecond, watcher: 2, do: "fir", want: 2}, {do: "pli", want: 2},
			{after: 499 * time.Millisecond, watcher: 1, do: "pli", want: 2}, {after: 101 * time.Millisecond, do: "pli", want: 3},
		}},
		{"a PLI for another SSRC is not a request", []step{
			{do: "add", want: 1}, {do: "key", want: 1}, {after: time.Second, do: "pli-other", want: 1}, {do: "pli", want: 2},
		}},
		{"a waiting watcher asks again on each interframe, throttled", []step{
			{do: "add", want: 1}, {after: 100 * time.Millisecond, do: "inter", want: 1},
			{after: 400 * time.Millisecond, do: "inter", want: 2}, {after: 100 * time.Millisecond, do: "inter", want: 2},
			{after: 400 * time.Millisecond, do: "key", want: 2}, {after: time.Second, do: "inter", want: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			u, requests := upstreamFor(t, webrtc.MimeTypeVP8, clk, 0)
			var ds [3]*Downstream
			for i := range ds {
				ds[i], _ = downstreamFor(t, uint32(100+i))
			}
			seq := uint16(0)
			for i, s := range tt.steps {
				clk.Advance(s.after)
				d := ds[s.watcher]
				switch s.do {
				case "add":
					u.Add(d)
				case "pli":
					d.HandleRTCP(pli(d.SSRC()))
				case "pli-other":
					d.HandleRTCP(pli(d.SSRC() + 1))
				case "fir":
					d.HandleRTCP([]rtcp.Packet{&rtcp.FullIntraRequest{SenderSSRC: 9, FIR: []rtcp.FIREntry{{SSRC: d.SSRC(), SequenceNumber: 1}}}})
				case "inter", "key":
					seq++
					payload := vp8InterPayload
					if s.do == "key" {
						payload = vp8KeyPayload
					}
					if err := u.Write(rtpPacket(t, seq, 0, payload)); err != nil {
						t.Fatal(err)
					}
				}
				if *requests != s.want || u.Counters.KeyframeRequests.Load() != uint64(s.want) {
					t.Fatalf("step %d (%s): %d requests, counted %d, want %d", i, s.do, *requests, u.Counters.KeyframeRequests.Load(), s.want)
				}
			}
		})
	}
}

// Audio asks no keyframe.
func TestAudioRequestsNoKeyframe(t *testing.T) {
	clk := newClock()
	u, requests := upstreamFor(t, webrtc.MimeTypeOpus, clk, 0)
	d, _ := downstreamFor(t, 5)
	u.Add(d)
	d.HandleRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: 5}})
	if *requests != 0 || d.Counters.KeyframeRequests.Load() != 1 {
		t.Fatalf("%d requests, %d received", *requests, d.Counters.KeyframeRequests.Load())
	}
}
