package signaling_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/loadtest"
	"github.com/broadcast-service/broadcast/signaling"
)

// benchURL is BENCH_URL (another server, e.g. the original Node
// signalingServer.js) or a server of this package started in process.
func benchURL(b *testing.B) string {
	if u := os.Getenv("BENCH_URL"); u != "" {
		return u
	}
	url, _ := sigtest.Start(b, signaling.Options{Limits: sigtest.LoadLimits}, signaling.ServerOptions{})
	return url
}

// BenchmarkWebSocketFanout drives a server over real WebSockets with
// loadtest.Fanout: 20 rooms of a talker and 9 watchers, 1 KB messages, at
// most 64 in flight per room. An op is one message sent (9 deliveries). It
// reports deliveries/s and the p50/p99 latency from send to receipt.
func BenchmarkWebSocketFanout(b *testing.B) {
	const rooms, watchers = 20, 9
	cfg := loadtest.Config{URL: benchURL(b), Rooms: rooms, Watchers: watchers, Messages: max(b.N/rooms, 1), Bytes: 1000, Window: 64}
	b.ResetTimer()
	res, err := loadtest.Fanout(context.Background(), cfg)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if res.Lost+res.Duplicated+res.Misrouted > 0 {
		b.Errorf("%+v: messages lost, duplicated or misrouted", res)
	}
	b.ReportMetric(res.PerSecond, "deliveries/s")
	b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
}

// BenchmarkIdleConnection opens b.N sockets, 10 to a room, to the server at
// BENCH_URL and reports how much that server's resident memory grew per
// socket (BENCH_PID names its process; bench/compare.sh sets both). Without
// them there is no separate server process to weigh, so it is skipped.
func BenchmarkIdleConnection(b *testing.B) {
	pid, _ := strconv.Atoi(os.Getenv("BENCH_PID"))
	if os.Getenv("BENCH_URL") == "" || pid == 0 {
		b.Skip("needs BENCH_URL and BENCH_PID of a server process: run bench/compare.sh")
	}
	res, err := loadtest.Idle(context.Background(), loadtest.Config{URL: benchURL(b), Idle: b.N, ServerPID: pid})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.KBPerConn, "server-KB/conn")
}
