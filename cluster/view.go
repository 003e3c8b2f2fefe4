package cluster

import "fmt"

// event is a room's membership event, as the scripts publish it on the
// room's channel: a join ("j"), a departure ("l") or a talker's claim
// ("t") of a socket on a node, with the room's version after it and
// before it. Versions of a room increase, not one by one. Routed
// messages travel in another form (see encodeMessage).
type event struct {
	Kind   string `json:"k"`
	Node   string `json:"n"`
	Socket string `json:"s"`
	Talker bool   `json:"t"`
	Ver    int64  `json:"v"`
	Prev   int64  `json:"p"` // the room's version before it
}

// view is a node's picture of a room it has members in: every member's
// node, the talker, and the version they were read at.
type view struct {
	local   map[string]bool   // this node's members
	members map[string]string // socket id → node id, every node's
	remote  int               // members on other nodes
	talker  string            // the talker's socket id, or ""
	ver     int64
	based   bool          // a snapshot was taken in
	early   []event       // events received before the first snapshot
	ready   chan struct{} // closed once the room's channel is subscribed
	waiting bool          // ready not closed yet
}

// maxEarly bounds the events a view keeps until its first snapshot.
const maxEarly = 1024

func newView() *view {
	return &view{local: map[string]bool{}, members: map[string]string{}, ready: make(chan struct{}), waiting: true}
}

func (v *view) add(id, node, self string) {
	if old, ok := v.members[id]; ok && old != self {
		v.remote--
	}
	v.members[id] = node
	if node != self {
		v.remote++
	}
}

func (v *view) remove(id, self string) {
	if node, ok := v.members[id]; ok {
		delete(v.members, id)
		if node != self {
			v.remote--
		}
	}
	if v.talker == id {
		v.talker = ""
	}
}

// snapshot is a room as snapshotScript or joinScript read it.
type snapshot struct {
	ver     int64
	talker  string
	members map[string]string
}

// parseSnapshot reads {ver, talker, flat members} from a script's reply.
func parseSnapshot(reply []any) (snapshot, error) {
	if len(reply) != 3 {
		return snapshot{}, fmt.Errorf("snapshot of %d fields: %w", len(reply), ErrProtocol)
	}
	ver, ok1 := reply[0].(int64)
	talker, ok2 := reply[1].(string)
	flat, ok3 := reply[2].([]any)
	if !ok1 || !ok2 || !ok3 || len(flat)%2 != 0 {
		return snapshot{}, fmt.Errorf("snapshot %v: %w", reply, ErrProtocol)
	}
	s := snapshot{ver: ver, talker: talker, members: make(map[string]string, len(flat)/2)}
	for i := 0; i < len(flat); i += 2 {
		id, _ := flat[i].(string)
		node, _ := flat[i+1].(string)
		s.members[id] = node
	}
	return s, nil
}

// departure is a member of another node that a view saw go.
type departure struct {
	room, id string
	talker   bool
}

// apply takes a membership event into the view unless the view already
// has it (its version is not newer), and returns a departure to announce
// and whether events were missed (so a snapshot is due).
func (v *view) apply(room string, ev event, self string) (gone *departure, gap bool) {
	if !v.based {
		if len(v.early) < maxEarly {
			v.early = append(v.early, ev)
		}
		return nil, false
	}
	if ev.Ver <= v.ver {
		return nil, false
	}
	gap = v.ver != 0 && ev.Prev != v.ver
	v.ver = ev.Ver
	switch ev.Kind {
	case "j":
		v.add(ev.Socket, ev.Node, self)
		if ev.Talker {
			v.talker = ev.Socket
		} else if v.talker == ev.Socket {
			v.talker = ""
		}
	case "t":
		v.talker = ev.Socket
	case "l":
		v.remove(ev.Socket, self)
		if ev.Node != self {
			gone = &departure{room, ev.Socket, ev.Talker}
		}
	}
	return gone, gap
}

// replace takes a snapshot into the view unless the view is newer (or
// force), then the events that came before the view's first snapshot, and
// returns the members of other nodes that the snapshot or those events
// show gone, or no longer talker.
func (v *view) replace(room string, s snapshot, self string, force bool) []departure {
	if v.based && !force && s.ver <= v.ver {
		return nil
	}
	var gone []departure
	for id, node := range v.members {
		if node == self {
			continue
		}
		if _, ok := s.members[id]; !ok {
			gone = append(gone, departure{room, id, id == v.talker})
		} else if id == v.talker && s.talker != id {
			gone = append(gone, departure{room, id, true})
		}
	}
	v.members = s.members
	v.talker = s.talker
	v.ver = s.ver
	v.remote = 0
	for _, node := range s.members {
		if node != self {
			v.remote++
		}
	}
	if !v.based {
		v.based = true
		for _, ev := range v.early {
			if d, _ := v.apply(room, ev, self); d != nil {
				gone = append(gone, *d)
			}
		}
		v.early = nil
	}
	return gone
}
