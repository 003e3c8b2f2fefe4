package signaling

import (
	"fmt"
	"runtime/debug"
)

// recovered turns a value recovered from a panic into an error that wraps
// ErrInternal and carries the panicking goroutine's stack, so that a fault
// met while serving one client ends that client, logged, and never the
// process.
func recovered(v any) error {
	return fmt.Errorf("%w: panic: %v\n%s", ErrInternal, v, debug.Stack())
}
