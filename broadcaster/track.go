package broadcaster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// maxSkip bounds how many frames pace skips looking for a keyframe a
// watcher asked for: a file with few keyframes is not skipped through whole.
const maxSkip = 300

// track is one kind of media: a file source feeding a local track shared
// by all watchers.
type track struct {
	src     source
	local   *webrtc.TrackLocalStaticSample
	wantKey atomic.Bool // a watcher asked for a keyframe (PLI)
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
		err = t.local.WriteSample(media.Sample{Data: f.data, Duration: f.duration})
		if err != nil && !errors.Is(err, io.ErrClosedPipe) {
			return fmt.Errorf("write %s sample: %w", t.local.Kind(), err)
		}
		next = next.Add(f.duration)
		if lag := time.Since(next); lag > time.Second {
			next = time.Now() // fell behind (a stall): do not burst to catch up
		}
	}
}

// readRTCP answers a watcher's PLI and FIR by asking the track for a
// keyframe; it returns when the sender closes.
func (t *track) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
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
