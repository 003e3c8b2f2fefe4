package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/broadcast-service/broadcast/signaling"
)

// keysCommand prints a room's talk link, its WHIP URL with the talk key as
// bearer token and, with -watch-ttl, an expiring watch link, signed with
// the server's -talk-secret.
func keysCommand(args []string, getenv func(string) string, stdout, stderr io.Writer, now time.Time) error {
	f := newFlags("broadcast keys", getenv, stderr)
	room := f.String("room", "", "the room")
	base := f.str("base", "BROADCAST_BASE_URL", "http://localhost:8080", "the service's public URL")
	secret := f.str("talk-secret", "BROADCAST_TALK_SECRET", "", "the server's -talk-secret")
	ttl := f.String("watch-ttl", "", "also print a watch link valid this long (e.g. 2h)")
	if err := f.parseArgs(args); err != nil {
		return err
	}
	if err := signaling.ValidRoomName(*room); err != nil {
		return fmt.Errorf("-room: %w", err)
	}
	if *secret == "" {
		return errors.New("-talk-secret (or BROADCAST_TALK_SECRET) is needed to sign keys")
	}
	keys := signaling.NewKeys([]byte(*secret))
	link := func(page, key string) string {
		q := url.Values{"room": {*room}, "key": {key}}
		return strings.TrimRight(*base, "/") + "/" + page + "?" + q.Encode()
	}
	fmt.Fprintln(stdout, "talk: ", link("talk.html", keys.TalkKey(*room)))
	// For OBS (Settings → Stream → WHIP): the server and the bearer token.
	fmt.Fprintln(stdout, "whip: ", strings.TrimRight(*base, "/")+"/whip/"+url.PathEscape(*room), "bearer", keys.TalkKey(*room))
	if *ttl != "" {
		d, err := duration(*ttl)
		if err != nil {
			return fmt.Errorf("-watch-ttl %q: %w", *ttl, err)
		}
		if d > signaling.MaxWatchTTL {
			return fmt.Errorf("-watch-ttl %q: a watch key lasts at most %v", *ttl, signaling.MaxWatchTTL)
		}
		exp := now.Add(d)
		fmt.Fprintln(stdout, "watch:", link("watch.html", keys.WatchKey(*room, exp)), "(until", exp.UTC().Format(time.RFC3339)+")")
	}
	return nil
}
