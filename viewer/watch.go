package viewer

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// watch runs the signaling loop, from the first `entered`; it returns why
// watching ended, or the error that ended it.
func (v *Viewer) watch(ctx context.Context, entered session.Entered) (string, error) {
	noTalker := time.NewTimer(v.opts.WaitTalker)
	defer noTalker.Stop()
	var done <-chan time.Time // the Duration, once the first frame is in
	first := v.firstFrame
	reports := time.NewTicker(v.opts.ReportEvery)
	defer reports.Stop()
	retry := time.NewTicker(v.opts.Retry / 3)
	defer retry.Stop()
	var last reportBase
	v.entered(entered)
	for {
		var ended string
		var err error
		select {
		case <-retry.C:
			ended = v.tick()
		case <-reports.C:
			// Only while live: while away the talker's socket id may be gone.
			if v.phase == phaseLive && v.firstAt.Load() > 0 {
				v.send(last.next(v, v.currentTalker()))
			}
		case <-v.mediaChanged:
			if v.phase == phaseConnecting && v.mediaUp() {
				v.moveTo(phaseLive)
			}
		case <-ctx.Done():
			return "stopped", nil
		case <-noTalker.C:
			return "", fmt.Errorf("%w after %v", ErrNoTalker, v.opts.WaitTalker)
		case <-first:
			first = nil
			noTalker.Stop()
			if v.opts.Duration > 0 {
				done = time.After(v.opts.Duration)
			}
		case <-done:
			return "duration", nil
		case err = <-v.failed:
		case ev, ok := <-v.sess.Events():
			if !ok {
				if ctx.Err() != nil {
					return "stopped", nil
				}
				return "", v.sess.Err()
			}
			ended, err = v.event(ev)
			if v.phase == phaseQueued {
				noTalker.Stop() // a talker: in its queue, for as long as it takes
			}
		}
		if ended != "" || err != nil {
			return ended, err
		}
	}
}

// event is one thing the session heard.
func (v *Viewer) event(ev session.Event) (string, error) {
	switch e := ev.(type) {
	case session.Entered:
		v.entered(e)
	case session.Refused:
		v.log.Warn("signaling error", "code", e.Code, "message", e.Message)
	case session.Left:
		if e.ID != "" && e.ID == v.currentTalker() {
			if v.relayed() {
				return "relay_left", nil // the relay is the server's: its media went with it
			}
			return v.talkerLeft()
		}
	case session.Message:
		return v.message(e.Message)
	}
	return "", nil
}

// entered: in the room, at first or back under a new socket id.
func (v *Viewer) entered(e session.Entered) {
	v.iceServers = e.ICEServers
	switch {
	case v.phase == phaseIdle:
		v.requestedAt = time.Now()
		v.request("") // the room's talker, if it has one, answers
	case v.mediaUp():
		v.askResume() // back with the media up
	default:
		v.request("") // back with nothing to keep: ask again
	}
}

// talkerLeft: the talker's socket has gone. With the media up its node may
// be restarting: it has protocol.ResumeGrace to come back (see tick).
func (v *Viewer) talkerLeft() (string, error) {
	if !v.mediaUp() {
		return "talker_left", nil
	}
	if !v.phase.away() {
		v.moveTo(phaseTalkerAway)
	}
	return "", nil
}

// message is one `message` from the talker (or a stranger).
func (v *Viewer) message(m protocol.Message) (string, error) {
	switch m.Type {
	case protocol.TypeTalkReady:
		v.talkReady(m.From, m.Resumed)
	case protocol.TypeOffer:
		if v.phase.away() && !v.sameSession(m.SDP) {
			return "talker_left", nil // a new session: the talker could not take ours back
		}
		return "", v.answer(m)
	case protocol.TypeCandidate:
		v.candidates.Add(m.From, rtc.ICECandidate(m))
	case protocol.TypeLayer:
		v.noteLayer(m)
	case protocol.TypeTalkReject:
		if m.Reason == protocol.RejectFull && m.Position > 0 {
			// The talker's queue: it is the talker, whose end_talk or
			// leaving ends the wait.
			v.log.Info("room full: in line", "position", m.Position)
			v.mu.Lock()
			v.talker = m.From
			v.mu.Unlock()
			v.moveTo(phaseQueued)
			return "", nil
		}
		if m.Reason == protocol.RejectFull {
			v.moveTo(phaseFull)
			return "", fmt.Errorf("%w: %s", ErrRoomFull, m.Reason)
		}
		return "", fmt.Errorf("%w: %s", ErrRejected, m.Reason)
	case protocol.TypeEndTalk:
		// Only the room's talker may send it: while watching through the
		// relay, whoever sent it is the talker whose stream the relay feeds.
		if m.From == v.currentTalker() || v.relayed() {
			return "talker_left", nil
		}
	}
	return "", nil
}

// talkReady: a talker in the room is ready, or has resumed this session.
func (v *Viewer) talkReady(from string, resumed bool) {
	switch {
	case resumed:
		if v.phase.away() {
			v.resumed(from)
		}
	case v.mediaUp():
		// Through the relay, the talker's socket is the relay's business.
		if !v.relayed() && (v.phase == phaseTalkerAway || from != v.currentTalker()) {
			v.askResume() // the talker is back, under a new socket id
		}
	case v.currentTalker() == "" || v.peerConnection() == nil:
		v.request(from)
	}
}

// tick runs every third of Options.Retry: it gives up a session the talker
// did not resume in time, and asks again what seems not to have been heard.
func (v *Viewer) tick() string {
	if !v.phase.away() {
		v.nudge()
		return ""
	}
	if v.inPhase() > protocol.ResumeGrace || !v.mediaUp() {
		return "talker_left"
	}
	if v.phase == phaseResuming && time.Since(v.askedAt) >= v.opts.Retry {
		v.askResume()
	}
	return ""
}

// nudge asks again when the talker seems not to have heard: a talk_request
// while no offer has come, the same answer while the media connection is
// still to come up.
func (v *Viewer) nudge() {
	if v.phase == phaseIdle || time.Since(v.askedAt) < v.opts.Retry {
		return
	}
	v.mu.Lock()
	pc, talker := v.pc, v.talker
	v.mu.Unlock()
	if pc == nil {
		v.request("") // the room's talker alone hears it, if there is one
		return
	}
	switch pc.ConnectionState() {
	case webrtc.PeerConnectionStateNew, webrtc.PeerConnectionStateConnecting:
		if answer := pc.LocalDescription(); answer != nil {
			v.log.Debug("answer repeated", "talker", talker)
			v.sendAnswer(answer.SDP, talker)
		}
	}
}

// request sends a talk_request to the talker to, or to the room's talker if
// to is empty.
func (v *Viewer) request(to string) {
	v.askedAt = time.Now()
	if v.peerConnection() == nil {
		v.moveTo(phaseWaiting)
	}
	v.send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: to}})
}

func (v *Viewer) sendAnswer(sdp, talker string) {
	v.askedAt = time.Now()
	v.send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: talker}, SDP: sdp})
}
