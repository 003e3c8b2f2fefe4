package signaling

import (
	"sync"
	"time"
)

// setupWait bounds how long Server.Close waits for sessions being set up.
const setupWait = 5 * time.Second

// setups counts sessions between the transport's Accept and the
// socket.io server taking them (their first read, or their close).
// go-socket.io's engine hands each new session over on a channel that its
// Close closes, from a goroutine of its own: closing the engine while a
// session is in between panics that goroutine ("send on closed channel")
// and ends the process. Server.Close therefore stops new sessions and
// waits for these before it closes the engine.
type setups struct {
	mu      sync.Mutex
	closing bool
	n       int
	idle    chan struct{} // closed once n is 0 after close began
}

// begin counts a new session; false once closing.
func (s *setups) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.n++
	return true
}

// end uncounts a session begin counted.
func (s *setups) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n--; s.n == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}

// close refuses new sessions and returns once none is being set up, or
// false after timeout.
func (s *setups) close(timeout time.Duration) bool {
	s.mu.Lock()
	s.closing = true
	if s.n == 0 {
		s.mu.Unlock()
		return true
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
	}
	idle := s.idle
	s.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-idle:
		return true
	case <-t.C:
		return false
	}
}
