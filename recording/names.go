package recording

import (
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// stamp is the layout of a recording's start time in its name.
const stamp = "20060102T150405Z"

// fileName is the name of room's recording started at start, with the
// extension ext (".webm", ".mkv"): the room path-escaped (a "/" cannot
// make it a path), an underscore, the start in UTC.
func fileName(room string, start time.Time, ext string) string {
	return url.PathEscape(room) + "_" + start.UTC().Format(stamp) + ext
}

// parseName reads a recording's name back: its room and start. It reports
// false for a name that is not one (another file in the directory).
func parseName(name string) (room string, start time.Time, ok bool) {
	if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return "", time.Time{}, false
	}
	ext := filepath.Ext(name)
	if ext != ".webm" && ext != ".mkv" {
		return "", time.Time{}, false
	}
	i := strings.LastIndexByte(name, '_')
	if i < 0 {
		return "", time.Time{}, false
	}
	start, err := time.Parse(stamp, strings.TrimSuffix(name[i+1:], ext))
	if err != nil {
		return "", time.Time{}, false
	}
	room, err = url.PathUnescape(name[:i])
	if err != nil || room == "" || fileName(room, start, ext) != name {
		return "", time.Time{}, false
	}
	return room, start, true
}
