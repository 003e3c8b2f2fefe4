package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
)

func TestRetryBacksOffUntilDone(t *testing.T) {
	var waits []time.Duration
	tries := 0
	err := session.Retry(context.Background(), func(context.Context) error {
		tries++
		if tries < 4 {
			return errors.New("not yet")
		}
		return nil
	}, func(_ error, next time.Duration) { waits = append(waits, next) })
	if err != nil || tries != 4 {
		t.Fatalf("Retry = %v after %d tries, want nil after 4", err, tries)
	}
	want := []time.Duration{2 * session.RetryMin, 4 * session.RetryMin, 8 * session.RetryMin}
	for i := range want {
		want[i] = min(want[i], session.RetryMax)
	}
	if len(waits) != len(want) || waits[0] != want[0] || waits[1] != want[1] || waits[2] != want[2] {
		t.Errorf("waits %v, want %v", waits, want)
	}
}

func TestRetryEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	err := session.Retry(ctx, func(context.Context) error {
		cancel()
		return errors.New("down")
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Retry = %v, want context.Canceled", err)
	}
}
