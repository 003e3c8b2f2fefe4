package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/relay"
)

type fakeRelay struct{ s relay.Stats }

func (f fakeRelay) Stats() relay.Stats { return f.s }

func TestRelayMetrics(t *testing.T) {
	m := New()
	m.WatchRelay(fakeRelay{relay.Stats{
		Rooms: 2, Watchers: 7, Packets: 1000, Bytes: 900000, PLIs: 3, NACKsServed: 12,
		Started: 4, KeyframeStarts: 4, GOPReplays: 3, FirstPacketWait: 2 * time.Second,
		SentDatagrams: 640, SendCalls: 10, SendDropped: 2,
	}})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"broadcast_relay_rooms 2",
		"broadcast_relay_watchers 7",
		"broadcast_relay_packets_total 1000",
		"broadcast_relay_bytes_total 900000",
		"broadcast_relay_plis_total 3",
		"broadcast_relay_nacks_served_total 12",
		"broadcast_relay_watchers_started_total 4",
		"broadcast_relay_keyframe_starts_total 4",
		"broadcast_relay_gop_replays_total 3",
		"broadcast_relay_first_packet_wait_seconds_sum 2",
		"broadcast_relay_first_packet_wait_seconds_count 4",
		"broadcast_relay_sent_datagrams_total 640",
		"broadcast_relay_send_calls_total 10",
		"broadcast_relay_send_dropped_total 2",
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
}
