package broadcaster

// Watchers returns how many watchers are being served, the room's relay
// among them if it is one.
func (b *Broadcaster) Watchers() int { return b.watchers.Len() }

// directWatchers returns how many watchers are served other than the
// room's relay: those Options.MaxWatchers bounds.
func (b *Broadcaster) directWatchers() int { return b.watchers.Direct() }

// closePeers closes every watcher's connection.
func (b *Broadcaster) closePeers() { b.watchers.DropAll() }
