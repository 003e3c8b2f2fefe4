// Package logtest lets a test follow a peer's log: a slog.Handler that
// passes each record on, counts records by message and keeps the order of
// "phase" records (the watcher's state machine, viewer.moveTo).
package logtest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// WaitFor is how long Wait waits for a record.
const WaitFor = 30 * time.Second

// Lines is a slog.Handler that passes each record's message, with its
// attributes as key=value, on a channel of 1000 (records past that, while
// nobody waits, are not passed on but still counted), and counts the
// records of each message. Its copies share their state.
type Lines struct {
	lines  chan string
	mu     *sync.Mutex
	count  map[string]int
	phases *[]string // the `to` of each "phase" record, in order
}

// New returns an empty Lines.
func New() Lines {
	return Lines{lines: make(chan string, 1000), mu: &sync.Mutex{}, count: map[string]int{}, phases: &[]string{}}
}

// Logger returns a logger writing to l.
func (l Lines) Logger() *slog.Logger { return slog.New(l) }

// Enabled reports true: every level is kept.
func (l Lines) Enabled(context.Context, slog.Level) bool { return true }

// Handle counts r and passes it on.
func (l Lines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.count[r.Message]++
	if r.Message == "phase" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "to" {
				*l.phases = append(*l.phases, a.Value.String())
			}
			return true
		})
	}
	l.mu.Unlock()
	line := r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	select {
	case l.lines <- line:
	default:
	}
	return nil
}

// WithAttrs returns l: the attributes are not kept.
func (l Lines) WithAttrs([]slog.Attr) slog.Handler { return l }

// WithGroup returns l.
func (l Lines) WithGroup(string) slog.Handler { return l }

// Phases returns the phases logged so far, in order, joined by " > ".
func (l Lines) Phases() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(*l.phases, " > ")
}

// Times returns how many records had msg.
func (l Lines) Times(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[msg]
}

// Wait returns the next line of a record whose message is msg; the test
// fails after WaitFor.
func (l Lines) Wait(t testing.TB, msg string) string {
	t.Helper()
	timeout := time.After(WaitFor)
	for {
		select {
		case line := <-l.lines:
			if line == msg || strings.HasPrefix(line, msg+" ") {
				return line
			}
		case <-timeout:
			t.Fatalf("no log record %q", msg)
		}
	}
}
