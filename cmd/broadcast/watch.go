package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/broadcast-service/broadcast/viewer"
)

// watchCommand watches a room, optionally recording it, and prints one JSON
// line of stats to stdout at exit (after any data channel lines, with -data -).
func watchCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("broadcast watch", getenv, stderr)
	server := f.str("server", "BROADCAST_SERVER", "http://localhost:8080", "signaling server URL")
	room := f.String("room", "", "room to watch")
	key := f.str("key", "BROADCAST_KEY", "", "a watch key, if the room needs one")
	record := f.String("record", "", "record into this file (.webm: VP8/VP9 with Opus)")
	duration := f.Duration("duration", 0, "stop after this long from the first frame (0: until interrupted or the talker leaves)")
	wait := f.Duration("wait", 10*time.Second, "how long to wait for the talker (in a talk page's queue, as long as it takes)")
	layer := f.String("layer", "", "through the room's relay, the simulcast layer to watch: low, medium, high or auto (the relay chooses)")
	data := f.String("data", "", "write data channel messages to this file, or - for stdout (before the stats line)")
	level := f.str("log-level", "BROADCAST_LOG_LEVEL", "info", "debug, info, warn or error")
	if err := f.parseArgs(args); err != nil {
		return err
	}
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(*level))
	opts := viewer.Options{
		Server: *server, Room: *room, Key: *key, Record: *record, Duration: *duration,
		WaitTalker: *wait, Layer: *layer, Logger: newLogger(stderr, lv),
	}
	switch *data {
	case "":
	case "-":
		opts.Data = stdout
	default:
		out, err := os.Create(*data)
		if err != nil {
			return fmt.Errorf("-data: %w", err)
		}
		defer out.Close()
		opts.Data = out
	}
	st, err := viewer.New(opts).Run(ctx)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(st)
}
