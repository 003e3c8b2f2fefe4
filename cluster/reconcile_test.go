package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/cluster"
	"github.com/broadcast-service/broadcast/internal/redistest"
)

// quiet is a Local that ignores what the cluster tells it.
type quiet struct{}

func (quiet) Deliver(room, to string, data []byte)  {}
func (quiet) Departed(room, id string, talker bool) {}
func (quiet) Kick(id string, err error)             {}

// startBare starts a Cluster without a hub whose sockets are each alone in
// one of rooms rooms, joined directly.
func startBare(t testing.TB, url string, rooms int) *cluster.Cluster {
	t.Helper()
	cl, err := cluster.New(cluster.Options{URL: url, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	cl.Start(quiet{})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = cl.Close(ctx)
	})
	var wg sync.WaitGroup
	errs := make(chan error, rooms)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < rooms; i += 16 {
				if err := cl.Join(fmt.Sprintf("r%d", i), fmt.Sprintf("s%d", i), i%2 == 0, 10); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return cl
}

// TestReconcileRoundTrips: the periodic check of a node's sockets and rooms
// costs a bounded number of round trips to Redis, whatever the number of
// rooms, so that it cannot hold the node's writes back.
func TestReconcileRoundTrips(t *testing.T) {
	rs := redistest.Start(t)
	const rooms = 600
	cl := startBare(t, rs.URL(), rooms)
	// Only the check's own round trips: a room whose join stopped waiting
	// for its subscription is read afresh once it comes (on a loaded host),
	// so every subscription is in, and what it queued is done, first.
	eventually(t, wait, "every room subscribed", cl.Subscribed)
	cl.Stall()()
	var rt roundTrips
	cl.AddHook(&rt)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := cl.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load(); n > 8 {
		t.Fatalf("reconcile of %d rooms took %d round trips, want at most 8", rooms, n)
	}
}

// BenchmarkReconcile: one check of a node's sockets and rooms, 5000 rooms.
func BenchmarkReconcile(b *testing.B) {
	rs := redistest.Start(b)
	cl := startBare(b, rs.URL(), 5000)
	var rt roundTrips
	cl.AddHook(&rt)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if err := cl.Reconcile(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
}
