package broadcaster

import "github.com/broadcast-service/broadcast/internal/watchers"

// newWatchers returns the table of the watchers b serves, as talk.html
// does: capped at Options.MaxWatchers (the room's relay beyond it), each
// offer answered within Options.OfferTimeout, and a watcher whose socket
// left with its media up kept protocol.ResumeGrace to resume.
func (b *Broadcaster) newWatchers() *watchers.Table[*peer] {
	return watchers.New(watchers.Config[*peer]{
		New: b.newPeer, Send: b.send, MaxWatchers: b.opts.MaxWatchers, OfferTimeout: b.opts.OfferTimeout,
		Resume: true, OnAir: b.onAirFor, Logger: b.log,
	})
}

// Watchers returns how many watchers are being served, the room's relay
// among them if it is one.
func (b *Broadcaster) Watchers() int { return b.watchers.Len() }

// directWatchers returns how many watchers are served other than the
// room's relay: those Options.MaxWatchers bounds.
func (b *Broadcaster) directWatchers() int { return b.watchers.Direct() }

// closePeers closes every watcher's connection.
func (b *Broadcaster) closePeers() { b.watchers.DropAll() }
