package broadcaster_test

import (
	"context"
	"testing"

	"github.com/broadcast-service/broadcast/broadcaster"
)

// runTalker starts a Go talker with opts until the test ends, and fails the
// test if it ends with an error.
func runTalker(t *testing.T, opts broadcaster.Options) *broadcaster.Broadcaster {
	t.Helper()
	b, err := broadcaster.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return b
}
