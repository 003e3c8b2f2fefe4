package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

type discard struct{}

func (discard) WriteFrames([]*signaling.Frame) error { return nil }
func (discard) Close() error                         { return nil }

func TestMetrics(t *testing.T) {
	m := New()
	h := signaling.NewHub(signaling.Options{Observer: m, RelaySecret: "s"})
	m.Watch(h)
	client := func(id, room string, role protocol.Role) *signaling.Client {
		c, err := h.Connect(id, "", discard{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Leave)
		if err := c.Enter(protocol.EnterRequest{Room: room, Role: role, Key: "s"}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	talker := client("t", "big", protocol.RoleTalker)
	w := client("w", "big", protocol.RoleWatcher)
	client("w2", "big", protocol.RoleWatcher)
	client("relay", "big", protocol.RoleRelay) // no watcher
	for i := range TopRooms + 2 {
		client(fmt.Sprintf("s%d", i), fmt.Sprintf("small-%02d", i), protocol.RoleWatcher)
	}
	if err := talker.Message([]byte(`{"type":"talk_ready"}`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Message([]byte(`{"type":"stats","bitrate":800000,"fps":29.5,"packetsLost":3,"jitter":0.004,"freezes":1,"rtt":0.02}`)); err != nil {
		t.Fatal(err)
	}
	err := w.Message([]byte(`{"type":"talk_ready"}`))
	h.Refused(err)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		"broadcast_sockets 16",
		"broadcast_rooms 13",
		"broadcast_talkers 1",
		`broadcast_room_sockets{room="big"} 4`,
		`broadcast_room_sockets{room="other"} 3`,
		`broadcast_room_watchers{room="big"} 2`,
		`broadcast_room_watchers{room="other"} 3`,
		`broadcast_messages_total{type="talk_ready"} 1`,
		`broadcast_deliveries_total{type="talk_ready"} 3`,
		`broadcast_messages_total{type="stats"} 1`,
		`broadcast_refusals_total{code="not_talker"} 1`,
		"broadcast_viewer_reports_total 1",
		"broadcast_viewer_packets_lost_total 3",
		"broadcast_viewer_freezes_total 1",
		"broadcast_viewer_bitrate_bits_per_second_sum 800000",
		"broadcast_viewer_fps_count 1",
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Bounded cardinality: the largest rooms and "other", no more.
	for _, name := range []string{"broadcast_room_sockets{", "broadcast_room_watchers{"} {
		if n := strings.Count(text, name); n != TopRooms+1 {
			t.Errorf("%d %s series, want %d", n, name, TopRooms+1)
		}
	}
}

type fakeCluster struct {
	up      bool
	nodes   int
	dropped uint64
}

func (f fakeCluster) Up() bool        { return f.up }
func (f fakeCluster) Nodes() int      { return f.nodes }
func (f fakeCluster) Dropped() uint64 { return f.dropped }

func TestClusterMetrics(t *testing.T) {
	scrape := func(m *Metrics) string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	m := New()
	if text := scrape(m); strings.Contains(text, "broadcast_redis_up") {
		t.Error("a single node reports a Redis state")
	}
	for _, tt := range []struct {
		c    fakeCluster
		want []string
	}{
		{fakeCluster{true, 3, 0}, []string{"broadcast_redis_up 1", "broadcast_cluster_nodes 3", "broadcast_cluster_dropped_total 0"}},
		{fakeCluster{false, 2, 7}, []string{"broadcast_redis_up 0", "broadcast_cluster_nodes 2", "broadcast_cluster_dropped_total 7"}},
	} {
		m.WatchCluster(tt.c)
		text := scrape(m)
		for _, want := range tt.want {
			if !strings.Contains(text, want) {
				t.Errorf("%+v: metrics lack %q", tt.c, want)
			}
		}
	}
}
