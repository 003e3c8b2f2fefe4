package relay

import (
	"bytes"
	"sync"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/codec"
	"github.com/broadcast-service/broadcast/internal/testmedia"
)

// gopUpstream returns a video Upstream of mime caching its group of
// pictures up to limit bytes in a buffer of buffer packets (0 for the
// default), counting its keyframe requests.
func gopUpstream(t testing.TB, mime string, limit, buffer int) (*Upstream, *int) {
	t.Helper()
	requests := new(int)
	var mu sync.Mutex
	u, err := NewUpstream(UpstreamConfig{
		MimeType: mime, ClockRate: 90000, BufferPackets: buffer, GOPCacheBytes: limit, Now: newClock().Now,
		RequestKeyframe: func() { mu.Lock(); *requests++; mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	return u, requests
}

// writeFrame writes frame, the i-th (payloaded by p, timestamps 3000
// apart) to u from seq on, and returns the next sequence number.
func writeFrame(t *testing.T, u *Upstream, p rtp.Payloader, frame []byte, i int, seq uint16) uint16 {
	t.Helper()
	for _, payload := range p.Payload(200, frame) {
		if err := u.Write(rtpPacket(t, seq, uint32(i)*3000, payload)); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	return seq
}

// Real frames from ffmpeg's encoders (a keyframe each second, 30 fps): a
// watcher joining at frame 40 is sent at once, without a keyframe request,
// frames 30 to 39 (the keyframe and its group), then the live ones, in
// sequence numbers without a gap; every frame it gets, put back together,
// is the encoder's, from the keyframe on, so its decoder decodes each. The
// replayed frames' timestamps are drawn toward frame 39's, which is kept,
// as are the live frames'.
func TestGOPReplayMedia(t *testing.T) {
	media := testmedia.Make(t, 2)
	tests := []struct {
		mime   string
		p      rtp.Payloader
		d      func() rtp.Depacketizer
		frames [][]byte
	}{
		{webrtc.MimeTypeVP8, &codecs.VP8Payloader{EnablePictureID: true}, func() rtp.Depacketizer { return &codecs.VP8Packet{} }, testmedia.IVFFrames(t, media.VP8)},
		{webrtc.MimeTypeVP9, &codecs.VP9Payloader{}, func() rtp.Depacketizer { return &codecs.VP9Packet{} }, testmedia.IVFFrames(t, media.VP9)},
		{webrtc.MimeTypeH264, &codecs.H264Payloader{}, func() rtp.Depacketizer { return &codecs.H264Packet{} }, annexBFrames(t, media.H264)},
	}
	for _, tt := range tests {
		t.Run(tt.mime, func(t *testing.T) {
			u, requests := gopUpstream(t, tt.mime, DefaultGOPCacheBytes, 0)
			late, w := downstreamFor(t, 2)
			seq := uint16(65000) // the numbers wrap on the way
			for i, frame := range tt.frames {
				if i == 40 {
					u.Add(late)
					if late.State() != Forwarding || *requests != 0 || u.Counters.GOPReplays.Load() != 1 {
						t.Fatalf("after Add: %v, %d keyframe requests, %d replays", late.State(), *requests, u.Counters.GOPReplays.Load())
					}
				}
				seq = writeFrame(t, u, tt.p, frame, i, seq)
			}
			got := w.take()
			if len(got) == 0 || !codec.KeyframePacket(tt.mime, got[0].payload) {
				t.Fatalf("%d packets, the first no keyframe's", len(got))
			}
			// One frame per timestamp, in order, numbers contiguous.
			var frames [][]byte
			var stamps []uint32
			var cur []byte
			d := tt.d()
			for i, p := range got {
				if i > 0 && p.hdr.SequenceNumber != got[i-1].hdr.SequenceNumber+1 {
					t.Fatalf("packet %d: number %d after %d", i, p.hdr.SequenceNumber, got[i-1].hdr.SequenceNumber)
				}
				if i > 0 && p.hdr.Timestamp != got[i-1].hdr.Timestamp {
					frames, cur = append(frames, cur), nil
				}
				if i == 0 || p.hdr.Timestamp != got[i-1].hdr.Timestamp {
					stamps = append(stamps, p.hdr.Timestamp)
				}
				b, err := d.Unmarshal(p.payload)
				if err != nil {
					t.Fatal(err)
				}
				cur = append(cur, b...)
			}
			frames = append(frames, cur)
			if len(frames) != len(tt.frames)-30 {
				t.Fatalf("%d frames, want %d (from the keyframe at 30)", len(frames), len(tt.frames)-30)
			}
			for i, f := range frames {
				if !bytes.Equal(f, tt.frames[30+i]) {
					t.Errorf("frame %d: %d bytes put back together, the encoder's %d", 30+i, len(f), len(tt.frames[30+i]))
				}
			}
			for i, ts := range stamps {
				n := 30 + i
				want := uint32(n) * 3000
				if n < 39 {
					want = 39*3000 - (39-uint32(n))*3000/gopReplaySpeed
				}
				if ts != want {
					t.Errorf("frame %d: timestamp %d, want %d", n, ts, want)
				}
			}
			if u.Counters.GOPReplayPackets.Load() == 0 || late.Counters.DroppedWaiting.Load() != 0 {
				t.Errorf("%d packets replayed, %d dropped waiting", u.Counters.GOPReplayPackets.Load(), late.Counters.DroppedWaiting.Load())
			}
		})
	}
}

// writeGOP writes a VP8 keyframe of one packet at seq, then n
// interframes of one packet of size bytes each, frame i at timestamp
// i*3000; it returns the next sequence number.
func writeGOP(t *testing.T, u *Upstream, seq uint16, first, n, size int) uint16 {
	t.Helper()
	if err := u.Write(rtpPacket(t, seq, uint32(first)*3000, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		payload := append(append([]byte{}, vp8InterPayload...), make([]byte, size-len(vp8InterPayload))...)
		if err := u.Write(rtpPacket(t, seq+uint16(i), uint32(first+i)*3000, payload)); err != nil {
			t.Fatal(err)
		}
	}
	return seq + uint16(n) + 1
}

// A group of pictures of more payload bytes than the limit, or more
// packets than the buffer holds, is not replayed: the watcher waits for a
// keyframe, asked of the talker, as without a cache; the next keyframe
// begins a group that is cached again.
func TestGOPCacheBound(t *testing.T) {
	keyLen := len(vp8KeyPayload)
	tests := []struct {
		name          string
		limit, buffer int
		frames        int
		replayed      bool
	}{
		{"within the limit", keyLen + 10*100, 64, 10, true},
		{"a byte over the limit", keyLen + 10*100 - 1, 64, 10, false},
		{"over the buffer", 1 << 20, 16, 16, false},
		{"fills the buffer", 1 << 20, 16, 15, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, requests := gopUpstream(t, webrtc.MimeTypeVP8, tt.limit, tt.buffer)
			seq := writeGOP(t, u, 100, 0, tt.frames, 100)
			d, w := downstreamFor(t, 2)
			u.Add(d)
			got := w.take()
			if tt.replayed {
				if len(got) != tt.frames+1 || *requests != 0 || d.State() != Forwarding {
					t.Fatalf("replayed %d packets, %d requests, %v; want %d, 0, forwarding", len(got), *requests, d.State(), tt.frames+1)
				}
				return
			}
			if len(got) != 0 || *requests != 1 || d.State() != Waiting {
				t.Fatalf("replayed %d packets, %d requests, %v; want none, 1, waiting", len(got), *requests, d.State())
			}
			// The next keyframe starts d, and caches again.
			writeGOP(t, u, seq, tt.frames+1, 2, 100)
			if got := w.take(); len(got) != 3 || got[0].hdr.SequenceNumber != seq {
				t.Fatalf("after the keyframe: %d packets", len(got))
			}
			d2, w2 := downstreamFor(t, 3)
			u.Add(d2)
			if got := w2.take(); len(got) != 3 {
				t.Errorf("the next group: %d packets replayed, want 3", len(got))
			}
		})
	}
}

// A watcher restarted (added again) waits for a keyframe as without a
// cache: it already decoded the group; so does one added with no cache.
func TestGOPReplayOnlyOnFirstStart(t *testing.T) {
	u, requests := gopUpstream(t, webrtc.MimeTypeVP8, DefaultGOPCacheBytes, 0)
	d, w := downstreamFor(t, 2)
	u.Add(d) // before any packet: nothing cached
	if *requests != 1 || d.State() != Waiting {
		t.Fatalf("%d requests, %v", *requests, d.State())
	}
	seq := writeGOP(t, u, 100, 0, 3, 50)
	if got := w.take(); len(got) != 4 {
		t.Fatalf("%d packets", len(got))
	}
	u.Add(d)
	if got := w.take(); len(got) != 0 || d.State() != Waiting || u.Counters.GOPReplays.Load() != 0 {
		t.Fatalf("restart: %d packets replayed, %v", len(got), d.State())
	}
	writeGOP(t, u, seq, 4, 1, 50)
	if got := w.take(); len(got) != 2 || got[0].hdr.SequenceNumber != 104 {
		t.Fatalf("restart on the keyframe: %+v", got)
	}

	off, _ := gopUpstream(t, webrtc.MimeTypeVP8, 0, 0)
	writeGOP(t, off, 100, 0, 3, 50)
	d2, w2 := downstreamFor(t, 3)
	off.Add(d2)
	if got := w2.take(); len(got) != 0 || d2.State() != Waiting {
		t.Fatalf("no cache: %d packets, %v", len(got), d2.State())
	}
}

// A replayed packet asked for again (NACK) goes out as it first did: the
// same number and the same drawn timestamp.
func TestGOPReplayNACK(t *testing.T) {
	u, _ := gopUpstream(t, webrtc.MimeTypeVP8, DefaultGOPCacheBytes, 0)
	writeGOP(t, u, 100, 0, 4, 50)
	d, w := downstreamFor(t, 2)
	u.Add(d)
	first := w.take()
	if len(first) != 5 {
		t.Fatalf("%d packets replayed", len(first))
	}
	if served, missed := d.HandleNACK([]uint16{first[1].hdr.SequenceNumber}); served != 1 || missed != 0 {
		t.Fatalf("NACK: served %d, missed %d", served, missed)
	}
	again := w.take()
	if len(again) != 1 || again[0].hdr.SequenceNumber != first[1].hdr.SequenceNumber || again[0].hdr.Timestamp != first[1].hdr.Timestamp {
		t.Fatalf("retransmitted %+v, first sent %+v", again, first[1].hdr)
	}
}

// Watchers added while the talker's packets are written each get, with
// -race, an unbroken run of numbers from a keyframe: no live packet goes
// between the replay and the next, none twice.
func TestGOPReplayWhileWriting(t *testing.T) {
	u, _ := gopUpstream(t, webrtc.MimeTypeVP8, DefaultGOPCacheBytes, 0)
	seq := writeGOP(t, u, 100, 0, 2, 50)
	const watchers = 8
	downs := make([]*Downstream, watchers)
	writers := make([]*fakeWriter, watchers)
	for i := range downs {
		downs[i], writers[i] = downstreamFor(t, uint32(10+i))
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, d := range downs {
		wg.Go(func() {
			<-start
			u.Add(d)
		})
	}
	close(start)
	for g := range 20 {
		seq = writeGOP(t, u, seq, 3+g*5, 4, 50)
	}
	wg.Wait()
	for i, w := range writers {
		got := w.take()
		if len(got) == 0 || !codec.KeyframePacket(webrtc.MimeTypeVP8, got[0].payload) {
			t.Fatalf("watcher %d: %d packets, the first no keyframe's", i, len(got))
		}
		for j := 1; j < len(got); j++ {
			if got[j].hdr.SequenceNumber != got[j-1].hdr.SequenceNumber+1 {
				t.Fatalf("watcher %d, packet %d: number %d after %d", i, j, got[j].hdr.SequenceNumber, got[j-1].hdr.SequenceNumber)
			}
		}
		if last := got[len(got)-1].hdr.SequenceNumber; last != seq-1 {
			t.Errorf("watcher %d: last number %d, want %d", i, last, seq-1)
		}
	}
}

// gopReplayTS draws a timestamp behind the last toward it, across the
// 32-bit wrap, and leaves one not behind as it is.
func TestGOPReplayTS(t *testing.T) {
	for _, tt := range []struct{ ts, last, want uint32 }{
		{0, 16 * 3000, 15 * 3000},
		{1<<32 - 1600, 0, 1<<32 - 100},
		{5000, 5000, 5000},
		{6000, 5000, 6000},
	} {
		if got := gopReplayTS(tt.ts, tt.last); got != tt.want {
			t.Errorf("gopReplayTS(%d, %d) = %d, want %d", tt.ts, tt.last, got, tt.want)
		}
	}
}
