package cluster_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/broadcast-service/broadcast/internal/redistest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// TestSwitchLeavesNoTrace: a talker switching rooms whose leave of its
// first room is dropped (the node's queue full) leaves no trace there:
// that room's talker role is free, even after the node's check.
func TestSwitchLeavesNoTrace(t *testing.T) {
	rs := redistest.Start(t)
	n1, n2 := startNode(t, rs.URL(), signaling.Limits{}), startNode(t, rs.URL(), signaling.Limits{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	// The hub's calls for a socket entering room a as its talker, then
	// switching to room b, whose leave of room a finds the node's queue
	// full.
	const id = "switcher"
	if err := n1.cl.Join("a", id, true, 10); err != nil {
		t.Fatal(err)
	}
	if err := n1.cl.Join("b", id, false, 10); err != nil {
		t.Fatal(err)
	}
	release := n1.cl.Stall()
	n1.cl.Leave("a", id)
	release()
	n1.cl.Beat(ctx) // the check that follows a dropped write

	if ok, err := rdb.HExists(ctx, "broadcast:room:a:members", id).Result(); err != nil || ok {
		t.Fatalf("room a still holds the socket: %v %v", ok, err)
	}
	if n, err := rdb.Exists(ctx, "broadcast:room:a:talker", "broadcast:room:a:ver").Result(); err != nil || n != 0 {
		t.Fatalf("room a's talker or version key left: %d %v", n, err)
	}
	n2.join(t, "a", protocol.RoleTalker)
}

// TestEmptyRoomKeysGo: a room's keys go once it empties, and a room used
// again takes versions above those it had.
func TestEmptyRoomKeysGo(t *testing.T) {
	rs := redistest.Start(t)
	n1 := startNode(t, rs.URL(), signaling.Limits{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	keys := []string{"broadcast:room:r:members", "broadcast:room:r:talker", "broadcast:room:r:ver"}
	talker := n1.join(t, "r", protocol.RoleTalker)
	watcher := n1.join(t, "r", protocol.RoleWatcher)
	before, err := rdb.Get(ctx, keys[2]).Int64()
	if err != nil {
		t.Fatal(err)
	}
	talker.c.Leave()
	watcher.want(protocol.EventUserDisconnected, talker.c.ID())
	// A socket cycling rooms leaves nothing behind in those it left.
	for _, room := range []string{"x1", "x2", "x3"} {
		if err := watcher.c.Enter(protocol.EnterRequest{Room: room, Role: protocol.RoleWatcher}); err != nil {
			t.Fatal(err)
		}
		watcher.want(protocol.EventEntered, room)
	}
	watcher.c.Leave()
	if err := n1.cl.Reconcile(ctx); err != nil { // after the leaves, on the worker
		t.Fatal(err)
	}
	for _, room := range []string{"r", "x1", "x2", "x3"} {
		base := "broadcast:room:" + room
		if n, err := rdb.Exists(ctx, base+":members", base+":talker", base+":ver").Result(); err != nil || n != 0 {
			t.Fatalf("room %s emptied, %d of its keys left (%v)", room, n, err)
		}
	}
	n1.join(t, "r", protocol.RoleWatcher)
	after, err := rdb.Get(ctx, keys[2]).Int64()
	if err != nil || after <= before {
		t.Fatalf("room used again at version %d (%v), it was at %d", after, err, before)
	}
}
