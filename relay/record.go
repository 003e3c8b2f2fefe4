package relay

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/pion/webrtc/v4"
)

// RecordedTrack is one of the talker's tracks a recording takes: its kind
// and the codec the talker sends it in.
type RecordedTrack struct {
	Kind  webrtc.RTPCodecType
	Codec webrtc.RTPCodecParameters
}

// Recording is what a room's relay records into (package recording's
// sessions). The relay writes into it as into one more watcher, with no
// PeerConnection: a Downstream per track recorded, so that it starts on a
// keyframe (the cached group of pictures, or one asked of the talker)
// and keeps its sequence numbers and timestamps continuous.
type Recording interface {
	// Begin is called once the talker's tracks are in, with those
	// recorded: its audio and its first video (of a simulcast track, the
	// highest layer). It returns a Writer for each, in order; with an
	// error nothing is recorded. A Writer gets its track's packets on the
	// forwarding path, under the Downstream's lock: it must not block.
	Begin(tracks []RecordedTrack) ([]Writer, error)
	// Stopped is closed when the recording stops: the room detaches it.
	Stopped() <-chan struct{}
	// Ended is called once, when the room's relay ends or the recording
	// is detached: nothing more is written.
	Ended(err error)
}

// roomRecording is a Recording the room writes into. Its fields are
// guarded by Room.mu.
type roomRecording struct {
	rec     Recording
	tracks  []*talkerTrack // those recorded, once begun
	downs   []*Downstream  // theirs, in order
	begun   bool
	stopped bool // the recording stopped: nothing attaches it again
}

// Record records the room into rec: at once if the talker's tracks are
// in, else once they are. It returns ErrClosed if the room's relay is
// ending. rec.Ended is called when the recording stops or the relay ends.
func (r *Room) Record(rec Recording) error {
	rr := &roomRecording{rec: rec}
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return fmt.Errorf("%w: the room's relay is ending", ErrClosed)
	}
	r.recordings = append(r.recordings, rr)
	ready := r.ready
	r.wg.Go(func() { r.recordUntilStopped(rr) })
	r.mu.Unlock()
	if ready {
		r.beginRecording(rr)
	}
	return nil
}

// recordUntilStopped detaches rr when its recording stops, or tells it the
// relay ended.
func (r *Room) recordUntilStopped(rr *roomRecording) {
	select {
	case <-rr.rec.Stopped():
		r.mu.Lock()
		rr.stopped = true
		for _, d := range rr.downs {
			d.Detach()
		}
		rr.downs = nil
		r.recordings = slices.DeleteFunc(r.recordings, func(x *roomRecording) bool { return x == rr })
		r.mu.Unlock()
		rr.rec.Ended(nil)
	case <-r.done:
		rr.rec.Ended(ErrTalkerLeft)
	}
}

// beginRecordings begins the recordings asked for before the talker's
// tracks were in.
func (r *Room) beginRecordings() {
	r.mu.Lock()
	all := append([]*roomRecording(nil), r.recordings...)
	r.mu.Unlock()
	for _, rr := range all {
		r.beginRecording(rr)
	}
}

// beginRecording begins rr, unless it has begun or stopped: its
// Downstreams, one per track recorded, attached to their Upstreams (or,
// for a track whose packets have not come, once they do).
func (r *Room) beginRecording(rr *roomRecording) {
	r.mu.Lock()
	if rr.begun || rr.stopped || r.closing {
		r.mu.Unlock()
		return
	}
	rr.begun = true
	var audio, video *talkerTrack
	for _, t := range r.tracks {
		switch {
		case t.kind == webrtc.RTPCodecTypeAudio && audio == nil:
			audio = t
		case t.video() && video == nil:
			video = t
		}
	}
	r.mu.Unlock()
	var tracks []*talkerTrack
	var asked []RecordedTrack
	for _, t := range []*talkerTrack{video, audio} {
		if t != nil {
			tracks = append(tracks, t)
			asked = append(asked, RecordedTrack{Kind: t.kind, Codec: t.codec})
		}
	}
	writers, err := rr.rec.Begin(asked)
	if err != nil || len(writers) != len(tracks) {
		r.log.Warn("room not recorded", "err", err)
		return
	}
	downs := make([]*Downstream, len(tracks))
	for i, t := range tracks {
		d, err := NewDownstream(DownstreamConfig{SSRC: randomSSRC(), PayloadType: uint8(t.codec.PayloadType), Writer: writers[i]})
		if err != nil {
			r.log.Warn("room not recorded", "err", err)
			return
		}
		downs[i] = d
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rr.stopped {
		return
	}
	rr.tracks, rr.downs = tracks, downs
	r.retargetLocked(rr, nil)
	r.log.Info("room recording", "tracks", len(tracks))
}

// retargetRecordings attaches each recording's Downstreams of talker's
// track t (every track, if t is nil) to the track's highest layer sending:
// a track whose packets came after the recording began, or a simulcast
// layer that started or stopped (the talk page fits its feed to its
// uplink).
func (r *Room) retargetRecordings(t *talkerTrack) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rr := range r.recordings {
		r.retargetLocked(rr, t)
	}
}

// retargetLocked is retargetRecordings for rr, with r.mu held (a stop
// detaches under it too, so none is attached after it).
func (r *Room) retargetLocked(rr *roomRecording, only *talkerTrack) {
	if rr.stopped {
		return
	}
	for i, t := range rr.tracks {
		if (only != nil && t != only) || i >= len(rr.downs) {
			continue
		}
		up := t.layers.upstream(t.layers.nearest(len(t.layers.rids) - 1))
		switch d := rr.downs[i]; {
		case up == nil:
		case d.Upstream() == nil:
			up.Add(d)
		case d.Upstream() != up:
			d.Switch(up) // at the new layer's keyframe
		}
	}
}

// randomSSRC is a recording Downstream's SSRC: it goes into no packet on
// the wire, but a Downstream needs one.
func randomSSRC() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}
