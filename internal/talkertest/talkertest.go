// Package talkertest puts Go talkers (package broadcaster) on air for
// tests.
package talkertest

import (
	"context"
	"sync"
	"testing"

	"github.com/broadcast-service/broadcast/broadcaster"
)

// OnAir starts a Go talker with opts and returns it with stop, which ends
// it and returns Run's error (the same on every call). The talker is
// stopped when the test ends, and an error from Run fails the test then.
func OnAir(t testing.TB, opts broadcaster.Options) (*broadcaster.Broadcaster, func() error) {
	t.Helper()
	b, err := broadcaster.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return b, stop
}
