package main

import (
	"bytes"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/signaling"
)

func TestKeysCommand(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var out bytes.Buffer
	err := keysCommand([]string{"-room", "Hörsaal 3", "-base", "https://live.example/", "-watch-ttl", "2h"},
		env(map[string]string{"BROADCAST_TALK_SECRET": "s3cret"}), &out, io.Discard, now)
	if err != nil {
		t.Fatal(err)
	}
	keys := signaling.NewKeys([]byte("s3cret"))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("output %q, want a talk, a WHIP and a watch line", out.String())
	}
	whip := strings.Fields(lines[1])
	if len(whip) != 4 || whip[0] != "whip:" || whip[1] != "https://live.example/whip/H%C3%B6rsaal%203" || whip[2] != "bearer" || keys.CheckTalk("Hörsaal 3", whip[3]) != nil {
		t.Errorf("WHIP line %q", lines[1])
	}
	lines = []string{lines[0], lines[2]}
	for i, page := range []string{"talk.html", "watch.html"} {
		f := strings.Fields(lines[i])
		u, err := url.Parse(f[1])
		if err != nil || u.Host != "live.example" || u.Path != "/"+page || u.Query().Get("room") != "Hörsaal 3" {
			t.Fatalf("line %q: %v", lines[i], err)
		}
		key := u.Query().Get("key")
		if page == "talk.html" {
			err = keys.CheckTalk("Hörsaal 3", key)
		} else {
			err = keys.CheckWatch("Hörsaal 3", key, now.Add(2*time.Hour-time.Second))
			if keys.CheckWatch("Hörsaal 3", key, now.Add(2*time.Hour)) == nil {
				t.Error("the watch key outlives -watch-ttl")
			}
		}
		if err != nil {
			t.Errorf("%s key %q: %v", page, key, err)
		}
	}
	for _, args := range [][]string{{"-room", "r"}, {"-room", "a/b", "-talk-secret", "s"}, {"-room", "r", "-talk-secret", "s", "-watch-ttl", "soon"}, {"-room", "r", "-talk-secret", "s", "-watch-ttl", "169h"}} {
		if err := keysCommand(args, env(nil), io.Discard, io.Discard, now); err == nil {
			t.Errorf("keys %q: want an error", args)
		}
	}
}
