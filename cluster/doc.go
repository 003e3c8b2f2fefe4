// Package cluster spans a signaling hub's rooms across nodes over Redis
// (github.com/redis/go-redis/v9). It implements signaling.Cluster: each
// node's hub keeps its own sockets, and the Cluster keeps the registry of
// who is where in Redis, a view of every room the node has members in, and
// carries what crosses nodes over pub/sub.
//
//	cl, err := cluster.New(cluster.Options{URL: "redis://localhost:6379/0"})
//	hub := signaling.NewHub(signaling.Options{Cluster: cl})
//	cl.Start(hub)
//	defer cl.Close(ctx) // after hub.Close
//
// Design:
//   - Registry changes (join, talker claim, leave, reaping a dead node) are
//     Lua scripts (scripts.go): atomic checks of the room limit and the one
//     talker, and the change published on the room's channel with the
//     room's new version.
//   - A node's views follow the room channels it subscribes to; versions
//     order events against snapshots (view.go).
//   - A room broadcast is one PUBLISH on the room's channel; a message for
//     one socket is one PUBLISH on its node's channel. One worker sends a
//     node's writes in order, pipelined (worker.go).
//   - Every node renews a liveness key every TTL/5 and frees nodes whose key
//     expired, so a dead node's sockets are announced gone within 1.2×TTL
//     (liveness.go). After Redis was unreachable or restarted, a node
//     registers its sockets again and reads its rooms afresh.
//
// While Redis is unreachable the node serves its own sockets alone: joins
// are let in, messages for other nodes are dropped (counted in Dropped).
package cluster
