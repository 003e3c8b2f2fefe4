package relay

import "errors"

// Sentinel errors, wrapped with %w by the functions that return them.
var (
	// ErrUnsupportedCodec is returned by NewUpstream for a media type the
	// relay cannot forward: video other than VP8, VP9 and H.264 (it could
	// not tell where a watcher may start), or neither audio nor video.
	ErrUnsupportedCodec = errors.New("codec not supported by the relay")
	// ErrBadPacket is returned by Upstream.Write for bytes that are not an
	// RTP version 2 packet.
	ErrBadPacket = errors.New("bad RTP packet")
	// ErrBadConfig is returned by NewUpstream and NewDownstream for a
	// configuration missing a required field or holding a value out of
	// range.
	ErrBadConfig = errors.New("bad relay configuration")
	// ErrTooManyRooms is returned by Manager.StartRelay for a room past
	// ManagerConfig.MaxRooms relays running: its relay is not started.
	ErrTooManyRooms = errors.New("too many rooms relayed")
	// ErrClosed is returned by Room.Record once the room's relay is
	// ending, and by Manager.StartRelay and Manager.Record once the Manager is
	// closed.
	ErrClosed = errors.New("relay manager closed")
)

// Errors of a Room's run, wrapped with the reason.
var (
	// ErrTalkerLeft is returned by Room.Run when the talker's media
	// session ended: end_talk, its socket gone and not back within
	// protocol.ResumeGrace, its media connection failed, a new session
	// offered, or the relay refused.
	ErrTalkerLeft = errors.New("the talker left")
	// ErrSignalLost is returned by Room.Run when its signaling ended or
	// lost its connection to the server.
	ErrSignalLost = errors.New("relay signaling lost")
)

// ErrBadLayer is logged for a watcher's layer message that names no layer
// of the talker's track, or comes with no simulcast video to choose in.
var ErrBadLayer = errors.New("no such layer")
