package session

import (
	"context"
	"time"
)

// Waits between tries to reconnect to the signaling server: RetryMin,
// doubling up to RetryMax.
const (
	RetryMin = 250 * time.Millisecond
	RetryMax = 5 * time.Second
)

// Retry calls try after RetryMin, then again after twice as long each time
// it fails (up to RetryMax), until it returns nil; failed, if set, hears
// each failure and the wait before the next try. Retry returns ctx's error
// if ctx ends first.
func Retry(ctx context.Context, try func(context.Context) error, failed func(err error, next time.Duration)) error {
	wait := RetryMin
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		err := try(ctx)
		if err == nil {
			return nil
		}
		wait = min(2*wait, RetryMax)
		if failed != nil {
			failed(err, wait)
		}
		timer.Reset(wait)
	}
}
