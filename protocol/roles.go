package protocol

// Role is what a socket is in its room.
type Role string

// Roles. RolePlain is the role of a plain enter: a client that emits
// `enter` with a plain room name rather than {room, role, key?}. It
// watches, and in an open hub it becomes the talker by sending the room's
// first talk_ready. RoleRelay is the server's own relay for the room, a
// watcher toward the talker and a talker toward the watchers it serves.
const (
	RolePlain   Role = ""
	RoleTalker  Role = "talker"
	RoleWatcher Role = "watcher"
	RoleRelay   Role = "relay"
)
