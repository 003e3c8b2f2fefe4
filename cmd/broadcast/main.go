// Command broadcast runs the live broadcast service: the signaling server
// and the talk/watch pages.
//
//	broadcast [serve] [-addr :8080] [-max-watchers 10] ...
//	broadcast keys -room lecture1 [-watch-ttl 2h]
//	broadcast talk -server http://host:8080 -room lecture1 -video talk.ivf -audio talk.ogg
//	broadcast watch -server http://host:8080 -room lecture1 -record out.webm -duration 30s
//	broadcast bench -url http://host:8080 [-compare http://other:3000]
//
// Every flag has an environment fallback (BROADCAST_ADDR, ...); `broadcast
// -h` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "broadcast:", err)
		os.Exit(1)
	}
}

// run dispatches a subcommand; stdout receives its output, stderr logs and
// usage.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseServeConfig(args, getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, newLogger(stderr, cfg.LogLevel), nil)
	case "keys":
		return keysCommand(args, getenv, stdout, stderr, time.Now())
	case "talk":
		return talkCommand(ctx, args, getenv, os.Stdin, stderr)
	case "watch":
		return watchCommand(ctx, args, getenv, stdout, stderr)
	case "bench":
		return benchCommand(ctx, args, getenv, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q (want: serve, keys, talk, watch or bench)", cmd)
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
