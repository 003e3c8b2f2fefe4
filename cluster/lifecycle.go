package cluster

// lifecycle is where a Cluster is between New and the end of Close (or of
// a crash-like stop without farewell). It only moves forward, and only
// through advance.
type lifecycle int32

const (
	// open: from New until Close begins. Ops are queued and run.
	open lifecycle = iota
	// closing: Close has begun. Ops are still queued: the worker runs
	// them, up to the last op Close queues (the node's farewell).
	closing
	// closed: Close's last op ran, or Close stopped waiting for it. Ops
	// are refused with ErrUnavailable: enqueue drops them, do returns at
	// once.
	closed
)

// advance moves the cluster's lifecycle from from to to and reports
// whether it did; false means it was not at from (Close began already).
func (c *Cluster) advance(from, to lifecycle) bool {
	return c.state.CompareAndSwap(int32(from), int32(to))
}

// isClosed reports whether the worker has stopped taking ops.
func (c *Cluster) isClosed() bool { return lifecycle(c.state.Load()) == closed }
