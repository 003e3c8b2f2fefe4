package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/broadcast-service/broadcast/relay"
)

// Relay is what the server-side relay reports (*relay.Manager).
type Relay interface {
	// Stats returns the relay's figures now.
	Stats() relay.Stats
}

// WatchRelay makes the relay's figures part of each scrape:
// broadcast_relay_rooms, broadcast_relay_watchers, its packets, bytes, PLIs sent to talkers, NACKs
// served, watchers started (on a keyframe or not, from the cached group of
// pictures or not) and their wait for the first video packet, and the
// datagrams its UDP port wrote, the system calls that wrote them and
// those dropped. Call it once.
func (m *Metrics) WatchRelay(r Relay) { m.reg.MustRegister(newRelayCollector(r)) }

// relayCollector reads a Relay's Stats at each scrape.
type relayCollector struct {
	r                                     Relay
	rooms                                 *prometheus.Desc
	watchers, packets, bytes, plis, nacks *prometheus.Desc
	started, keyframeStarts, gopReplays   *prometheus.Desc
	firstPacketWait                       *prometheus.Desc
	sent, sendCalls, sendDropped          *prometheus.Desc
}

func newRelayCollector(r Relay) *relayCollector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &relayCollector{
		r:               r,
		rooms:           d("broadcast_relay_rooms", "Rooms relayed on this node (-relay-max-rooms bounds them)."),
		watchers:        d("broadcast_relay_watchers", "Watchers the relay serves on this node."),
		packets:         d("broadcast_relay_packets_total", "RTP packets the relay forwarded to watchers (NACKed ones sent again not counted)."),
		bytes:           d("broadcast_relay_bytes_total", "RTP payload bytes the relay forwarded to watchers."),
		plis:            d("broadcast_relay_plis_total", "PLIs the relay sent talkers: every watcher's keyframe requests merged."),
		nacks:           d("broadcast_relay_nacks_served_total", "Packets the relay sent watchers again from its buffer, on their NACKs."),
		started:         d("broadcast_relay_watchers_started_total", "Watchers whose video the relay started."),
		keyframeStarts:  d("broadcast_relay_keyframe_starts_total", "Watchers whose video started on a keyframe's first packet."),
		gopReplays:      d("broadcast_relay_gop_replays_total", "Watchers whose video started on the cached group of pictures, replayed, rather than on the next keyframe."),
		firstPacketWait: d("broadcast_relay_first_packet_wait_seconds", "Time from a watcher's media path up to its first video packet."),
		sent:            d("broadcast_relay_sent_datagrams_total", "Media datagrams (SRTP, SRTCP) the relay's UDP port (-relay-udp-port) wrote, many per system call."),
		sendCalls:       d("broadcast_relay_send_calls_total", "System calls that wrote the relay's media datagrams: sent datagrams divided by these is the mean batch."),
		sendDropped:     d("broadcast_relay_send_dropped_total", "Media datagrams the relay dropped for a socket that did not drain, or whose write failed."),
	}
}

func (c *relayCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rooms, c.watchers, c.packets, c.bytes, c.plis, c.nacks, c.started, c.keyframeStarts, c.gopReplays, c.firstPacketWait, c.sent, c.sendCalls, c.sendDropped} {
		ch <- d
	}
}

func (c *relayCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Stats()
	ch <- prometheus.MustNewConstMetric(c.rooms, prometheus.GaugeValue, float64(s.Rooms))
	ch <- prometheus.MustNewConstMetric(c.watchers, prometheus.GaugeValue, float64(s.Watchers))
	for _, v := range []struct {
		d *prometheus.Desc
		n uint64
	}{{c.packets, s.Packets}, {c.bytes, s.Bytes}, {c.plis, s.PLIs}, {c.nacks, s.NACKsServed}, {c.started, s.Started}, {c.keyframeStarts, s.KeyframeStarts}, {c.gopReplays, s.GOPReplays},
		{c.sent, s.SentDatagrams}, {c.sendCalls, s.SendCalls}, {c.sendDropped, s.SendDropped}} {
		ch <- prometheus.MustNewConstMetric(v.d, prometheus.CounterValue, float64(v.n))
	}
	ch <- prometheus.MustNewConstSummary(c.firstPacketWait, s.Started, s.FirstPacketWait.Seconds(), nil)
}
