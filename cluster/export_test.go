package cluster

import "context"

// Halt stops the node as a crash would: no farewell, its liveness key
// left to expire.
func (c *Cluster) Halt() { _ = c.stop(context.Background(), false) }
