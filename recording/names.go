package recording

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// stamp is the layout of a recording's start time in its name, to the
// millisecond: two recordings of a room do not share a name.
const stamp = "20060102T150405.000Z"

// maxNameBytes is the longest file name the recordings' file systems take
// (NAME_MAX).
const maxNameBytes = 255

// nameKept are the characters besides letters and digits a room keeps in
// its recordings' names; any other is percent-escaped, "." among them (no
// name is hidden or a path).
const nameKept = "-_~+()@"

// fileName is the name of room's recording started at start, with the
// extension ext (".webm", ".mkv"): the room, its letters and digits as
// they are and the rest percent-escaped, an underscore, the start in UTC.
// It returns ErrBadRoom if the name would be too long for a file.
func fileName(room string, start time.Time, ext string) (string, error) {
	var b strings.Builder
	for _, r := range room {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(nameKept, r) {
			b.WriteRune(r)
			continue
		}
		var buf [utf8.UTFMax]byte
		for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	name := b.String() + "_" + start.UTC().Format(stamp) + ext
	if len(name) > maxNameBytes {
		return "", fmt.Errorf("%w: %q is too long to name its recordings' files", ErrBadRoom, room)
	}
	return name, nil
}

// parseName reads a recording's name back: its room and start. It reports
// false for a name that is not one (another file in the directory).
func parseName(name string) (room string, start time.Time, ok bool) {
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
	if err != nil || room == "" {
		return "", time.Time{}, false
	}
	if again, err := fileName(room, start, ext); err != nil || again != name {
		return "", time.Time{}, false
	}
	return room, start, true
}
