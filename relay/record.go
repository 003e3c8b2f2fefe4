package relay

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

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

// roomRecording is a Recording the room writes into.
type roomRecording struct {
	rec    Recording
	tracks []*talkerTrack // those recorded, once begun
	downs  []*Downstream  // theirs, in order
	begun  bool
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
		downs := rr.downs
		rr.downs = nil
		r.mu.Unlock()
		for _, d := range downs {
			d.Detach()
		}
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

// beginRecording begins rr, unless it has begun: its Downstreams, one per
// track recorded, attached to their Upstreams (or, for a track whose
// packets have not come, once they do: attachLate).
func (r *Room) beginRecording(rr *roomRecording) {
	r.mu.Lock()
	if rr.begun || r.closing {
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
	rr.tracks, rr.downs = tracks, downs
	r.mu.Unlock()
	for i, t := range tracks {
		if up := t.layers.upstream(t.layers.nearest(len(t.layers.rids) - 1)); up != nil {
			up.Add(downs[i])
		}
	}
	r.log.Info("room recording", "tracks", len(tracks))
}

// attachRecordings attaches the recordings' Downstreams of talker's track
// t, whose packets came after they began.
func (r *Room) attachRecordings(t *talkerTrack) {
	r.mu.Lock()
	var downs []*Downstream
	for _, rr := range r.recordings {
		for i, rt := range rr.tracks {
			if rt == t && i < len(rr.downs) {
				downs = append(downs, rr.downs[i])
			}
		}
	}
	r.mu.Unlock()
	up := t.layers.upstream(t.layers.nearest(len(t.layers.rids) - 1))
	for _, d := range downs {
		switch {
		case up == nil:
		case d.Upstream() == nil:
			up.Add(d)
		case d.Upstream() != up: // a higher layer came
			d.Switch(up)
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
