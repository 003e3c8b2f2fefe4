package broadcaster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// maxSkip bounds how many frames pace skips looking for a keyframe a
// watcher asked for: a file with few keyframes is not skipped through whole.
const maxSkip = 300

// track is one media file: a source feeding the local tracks shared by all
// watchers: local, as a track of its own, and layer, as a simulcast layer
// (with its rid) of the video the room's relay gets; either may be nil.
type track struct {
	src     source
	kind    string // "video" or "audio"
	local   *webrtc.TrackLocalStaticSample
	layer   *webrtc.TrackLocalStaticSample
	wantKey atomic.Bool // a watcher asked for a keyframe (PLI)
}

// addLocal adds the local track fed from t's source: a track of its own
// for rid "", or else the simulcast layer rid.
func (t *track) addLocal(rid string) error {
	var opts []func(*webrtc.TrackLocalStaticRTP)
	if rid != "" {
		opts = append(opts, webrtc.WithRTPStreamID(rid))
	}
	local, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: t.src.mimeType()}, t.kind, "broadcast", opts...)
	if err != nil {
		return fmt.Errorf("%s track: %w", t.kind, err)
	}
	if rid == "" {
		t.local = local
	} else {
		t.layer = local
	}
	return nil
}

// pace writes the source's frames to the track at their own pace, looping.
// When a watcher has asked for a keyframe, it skips ahead to the next one.
func (t *track) pace(ctx context.Context) error {
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		f, err := t.src.next()
		if err != nil {
			return err
		}
		skipped := 0
		for t.wantKey.Load() && !f.key && skipped < maxSkip {
			if f, err = t.src.next(); err != nil {
				return err
			}
			skipped++
		}
		if f.key {
			t.wantKey.Store(false)
		}
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		// Skipped frames are left out of the RTP timeline rather than
		// reported as dropped: pion would also skip sequence numbers, which
		// receivers take for loss.
		for _, local := range []*webrtc.TrackLocalStaticSample{t.local, t.layer} {
			if local == nil {
				continue
			}
			err = local.WriteSample(media.Sample{Data: f.data, Duration: f.duration})
			if err != nil && !errors.Is(err, io.ErrClosedPipe) {
				return fmt.Errorf("write %s sample: %w", t.kind, err)
			}
		}
		next = next.Add(f.duration)
		if lag := time.Since(next); lag > time.Second {
			next = time.Now() // fell behind (a stall): do not burst to catch up
		}
	}
}

// readRTCP answers a watcher's PLI and FIR, read by read (an RTPSender's
// ReadRTCP, or ReadSimulcastRTCP for a layer), by asking the track for a
// keyframe; it returns when the sender closes.
func (t *track) readRTCP(read func() ([]rtcp.Packet, interceptor.Attributes, error)) {
	for {
		pkts, _, err := read()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				t.wantKey.Store(true)
			}
		}
	}
}
