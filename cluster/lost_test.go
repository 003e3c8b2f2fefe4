package cluster_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/broadcast-service/broadcast/cluster"
	"github.com/broadcast-service/broadcast/internal/redistest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// TestMissedMessagesCounted: messages a node never received from another
// (its subscription dropped or reconnected) are counted in Dropped, and
// those it did receive are not.
func TestMissedMessagesCounted(t *testing.T) {
	rs := redistest.Start(t)
	n1, n2 := startNode(t, rs.URL(), signaling.Limits{}), startNode(t, rs.URL(), signaling.Limits{})
	talker := n1.join(t, "a", protocol.RoleTalker)
	watcher := n2.join(t, "a", protocol.RoleWatcher)
	for i := range 5 {
		talker.send(fmt.Sprintf(`{"type":"talk_ready","n":%d}`, i))
		watcher.want(protocol.EventMessage, fmt.Sprintf(`"n":%d`, i))
	}
	if got := n2.cl.Dropped(); got != 0 {
		t.Fatalf("dropped %d of the messages received", got)
	}

	// Another node's messages, some of which never came.
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	send := func(stream, seq uint64) {
		t.Helper()
		data := fmt.Appendf(nil, `{"type":"talk_ready","seq":"%d-%d","from":"x"}`, stream, seq)
		if err := rdb.Publish(ctx, "broadcast:room:a", cluster.Message("ghost", "a", "", data, stream, seq)).Err(); err != nil {
			t.Fatal(err)
		}
		watcher.want(protocol.EventMessage, fmt.Sprintf(`"seq":"%d-%d"`, stream, seq))
	}
	send(7, 1)
	send(7, 5) // 2, 3 and 4 missed
	if got := n2.cl.Dropped(); got != 3 {
		t.Fatalf("dropped %d, want 3", got)
	}
	send(8, 3) // a new stream's 1 and 2 missed
	send(8, 4)
	if got := n2.cl.Dropped(); got != 5 {
		t.Fatalf("dropped %d, want 5", got)
	}
}
