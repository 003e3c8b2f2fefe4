package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/protocol"
)

// talkCommand goes on air from media files until ctx ends.
func talkCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stderr io.Writer) error {
	f := newFlags("broadcast talk", getenv, stderr)
	server := f.str("server", "BROADCAST_SERVER", "http://localhost:8080", "signaling server URL")
	room := f.String("room", "", "room to broadcast to")
	key := f.str("key", "BROADCAST_KEY", "", "the room's talk key, if the server is keyed")
	video := f.String("video", "", "video file: .ivf (VP8, VP9) or .h264 (H.264 Annex B); up to three, comma-separated, highest first, are simulcast layers for the room's relay")
	audio := f.String("audio", "", "audio file: .ogg (Opus)")
	fps := typed(f, "fps", "BROADCAST_FPS", "30", "frame rate of .h264 files", positiveFloat)
	maxWatchers := typed(f, "max-watchers", "BROADCAST_MAX_WATCHERS", "10", "watchers served at once", atLeast(1))
	offerTimeout := typed(f, "offer-timeout", "BROADCAST_OFFER_TIMEOUT", protocol.OfferTimeout.String(), "how long a watcher has to answer the offer before it is dropped", duration)
	data := f.Bool("data", false, "send each line of stdin to every watcher over the data channel")
	level := f.str("log-level", "BROADCAST_LOG_LEVEL", "info", "debug, info, warn or error")
	if err := f.parseArgs(args); err != nil {
		return err
	}
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(*level))
	b, err := broadcaster.New(broadcaster.Options{
		Server: *server, Room: *room, Key: *key, Video: *video, Audio: *audio,
		FPS: *fps, MaxWatchers: *maxWatchers, OfferTimeout: *offerTimeout, Logger: newLogger(stderr, lv),
	})
	if err != nil {
		return err
	}
	if *data {
		go func() {
			sc := bufio.NewScanner(stdin)
			for sc.Scan() {
				_ = b.Send(sc.Text())
			}
		}()
	}
	return b.Run(ctx)
}
