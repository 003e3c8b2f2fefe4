// Package watchers serves a room's watchers from a talker's side, for the
// Go talker (broadcaster) and the relay alike: a Table of watchers keyed by
// socket id, one PeerConnection each, moved through explicit phases (see
// phase.go) by one function that also keeps each phase's deadline.
//
// The Table answers a watcher's talk_request with an offer (the same offer
// again for a repeated request while it is out, talk_reject {reason:
// "full"} over Config.MaxWatchers, the room's relay served beyond it),
// takes its answer and trickled ICE candidates, drops it on bye, on an
// offer left unanswered for Config.OfferTimeout (talk_reject {reason:
// "timeout"}), on its media connection failing or its socket leaving, and
// hands its stats reports on. With Config.Resume a watcher whose socket
// left with its media up is kept protocol.ResumeGrace for it to resume
// under a new socket id (talk_request {resume: ufrag}, answered with
// talk_ready {resumed: true}).
//
// What differs between its users is behind Config.New and the Peer it
// returns: how a watcher's PeerConnection and its tracks are made (the Go
// talker's local tracks from files, the relay's Downstreams bound to its
// Upstreams), what to do when its media path is up, and what to release
// when it is dropped.
//
//	t := watchers.New(watchers.Config[*peer]{
//		New: newPeer, Send: sess.Send, MaxWatchers: 10, Resume: true,
//	})
//	// for each `message` from a watcher:
//	if m.Type == protocol.TypeTalkRequest {
//		t.Request(m.From, m.Resume, m.Relay)
//	} else {
//		t.Handle(m)
//	}
//	defer t.DropAll()
package watchers
