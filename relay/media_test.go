package relay

import (
	"bytes"
	"sort"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/codec"
	"github.com/broadcast-service/broadcast/internal/testmedia"
)

// Real frames from ffmpeg's encoders (2 s at 30 fps, a keyframe each
// second), packetized by pion's payloaders in packets small enough that a
// keyframe spans many. A watcher that joins at frame 5 gets nothing until
// frame 30, the second keyframe, then every packet of it and after it,
// even with the keyframe's first two packets swapped on the way; the
// frame put back together from what it got is the encoder's keyframe.
func TestKeyframeStartMedia(t *testing.T) {
	media := testmedia.Make(t, 2)
	tests := []struct {
		mime   string
		p      rtp.Payloader
		d      rtp.Depacketizer
		frames [][]byte
	}{
		{webrtc.MimeTypeVP8, &codecs.VP8Payloader{EnablePictureID: true}, &codecs.VP8Packet{}, testmedia.IVFFrames(t, media.VP8)},
		{webrtc.MimeTypeVP9, &codecs.VP9Payloader{}, &codecs.VP9Packet{}, testmedia.IVFFrames(t, media.VP9)},
		{webrtc.MimeTypeH264, &codecs.H264Payloader{}, &codecs.H264Packet{}, annexBFrames(t, media.H264)},
	}
	for _, tt := range tests {
		t.Run(tt.mime, func(t *testing.T) {
			if len(tt.frames) != media.Frames {
				t.Fatalf("%d frames, want %d", len(tt.frames), media.Frames)
			}
			clk := newClock()
			u, _ := upstreamFor(t, tt.mime, clk, 0)
			early, _ := downstreamFor(t, 1)
			late, w := downstreamFor(t, 2)
			u.Add(early)
			seq := uint16(65000) // the numbers wrap on the way
			perFrame := make([]int, len(tt.frames))
			secondKey := false // the keyframe's second packet is a keyframe packet too
			for i, frame := range tt.frames {
				if i == 5 {
					u.Add(late)
				}
				payloads := tt.p.Payload(200, frame)
				perFrame[i] = len(payloads)
				order := make([]int, len(payloads))
				for j := range order {
					order[j] = j
				}
				if i == 30 {
					order[0], order[1] = 1, 0
					secondKey = codec.KeyframePacket(tt.mime, payloads[1])
				}
				for _, j := range order {
					if err := u.Write(rtpPacket(t, seq+uint16(j), uint32(i)*3000, payloads[j])); err != nil {
						t.Fatal(err)
					}
				}
				seq += uint16(len(payloads))
			}
			if perFrame[30] < 3 {
				t.Fatalf("keyframe of %d packets", perFrame[30])
			}
			got := w.take()
			if len(got) < 2 || !codec.KeyframePacket(tt.mime, got[0].payload) || got[0].hdr.Timestamp != 30*3000 {
				t.Fatalf("first packet: %d packets, %+v", len(got), got[:min(len(got), 1)])
			}
			if want := sum(perFrame[30:]); len(got) != want {
				t.Errorf("%d packets, want %d", len(got), want)
			}
			// The second packet, first to come, is dropped unless it can be
			// started on; the first follows it either way.
			want := sum(perFrame[5:30]) + 1
			if secondKey {
				want--
			}
			if late.Counters.DroppedWaiting.Load() != uint64(want) {
				t.Errorf("%d dropped waiting, want %d", late.Counters.DroppedWaiting.Load(), want)
			}
			if early.Counters.Starts.Load() != 1 || late.Counters.Starts.Load() != 1 || early.Counters.Packets.Load() != uint64(sum(perFrame)) {
				t.Errorf("starts %d, %d; early got %d packets", early.Counters.Starts.Load(), late.Counters.Starts.Load(), early.Counters.Packets.Load())
			}
			// The keyframe, put back together in sequence order.
			var key []sent
			for _, p := range got {
				if p.hdr.Timestamp == 30*3000 {
					key = append(key, p)
				}
			}
			sort.Slice(key, func(i, j int) bool { return int16(key[i].hdr.SequenceNumber-key[j].hdr.SequenceNumber) < 0 })
			var frame []byte
			for i, p := range key {
				if i > 0 && p.hdr.SequenceNumber != key[i-1].hdr.SequenceNumber+1 {
					t.Fatalf("keyframe packet numbers not contiguous at %d", i)
				}
				b, err := tt.d.Unmarshal(p.payload)
				if err != nil {
					t.Fatal(err)
				}
				frame = append(frame, b...)
			}
			if want := tt.frames[30]; !bytes.Equal(frame, want) {
				t.Errorf("keyframe of %d bytes put back together as %d", len(want), len(frame))
			}
		})
	}
}

func sum(n []int) int {
	s := 0
	for _, v := range n {
		s += v
	}
	return s
}

// annexBFrames reads an Annex B file into access units, each in Annex B
// with 4-byte start codes and ending with its picture's (one) slice.
func annexBFrames(t *testing.T, path string) [][]byte {
	t.Helper()
	var aus [][]byte
	for _, nals := range testmedia.AccessUnits(t, path) {
		var au []byte
		for _, nal := range nals {
			au = append(append(au, 0, 0, 0, 1), nal...)
		}
		aus = append(aus, au)
	}
	return aus
}
