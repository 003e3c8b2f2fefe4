package protocol

// Role is what a socket is in its room.
type Role string

// Roles. A classic client enters with a plain room name: it watches, and in
// an open hub it becomes the talker by sending the room's first talk_ready.
const (
	RoleClassic Role = ""
	RoleTalker  Role = "talker"
	RoleWatcher Role = "watcher"
)
