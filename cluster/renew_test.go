package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/broadcast-service/broadcast/internal/redistest"
	"github.com/broadcast-service/broadcast/signaling"
)

// TestRegisteringRenewsLiveness: a node registering (again) renews its
// liveness key as it does: the beat that set the key may have waited most
// of a TTL for Redis, and the other nodes reap a registered node whose key
// has expired, announcing its sockets gone.
func TestRegisteringRenewsLiveness(t *testing.T) {
	rs := redistest.Start(t)
	// No heartbeat within the test (one every TTL/5) renews the key but
	// the registering.
	const long = 10 * time.Minute
	n := startNodeTTL(t, rs.URL(), signaling.Options{}, long)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	keys, err := rdb.Keys(ctx, "broadcast:node:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var alive string
	for _, k := range keys {
		if typ, _ := rdb.Type(ctx, k).Result(); typ == "string" {
			alive = k
		}
	}
	if alive == "" {
		t.Fatalf("no liveness key among %v", keys)
	}
	// As if the beat that set it was long ago: a moment left.
	if err := rdb.PExpire(ctx, alive, 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := n.cl.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if left, err := rdb.PTTL(ctx, alive).Result(); err != nil || left < long/2 {
		t.Fatalf("liveness key expires in %v (%v) after registering, want about %v", left, err, long)
	}
}
