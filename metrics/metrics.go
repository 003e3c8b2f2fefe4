// Package metrics exposes the service in the Prometheus format: sockets,
// rooms, talkers and the largest rooms' sockets and watchers (read from the
// hub at each scrape), messages and bytes routed by type, refusals by code,
// evictions by reason, the quality watchers report, and with Redis its
// state, plus Go and process metrics.
//
//	m := metrics.New()
//	hub := signaling.NewHub(signaling.Options{Observer: m})
//	m.Watch(hub)
//	http.Handle("/metrics", m.Handler())
package metrics

import (
	"net/http"
	"sort"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// TopRooms is how many rooms get a label of their own in
// broadcast_room_sockets and broadcast_room_watchers (the largest, by
// sockets); the rest are summed under room="other".
const TopRooms = 10

// Metrics is a signaling.Observer that keeps Prometheus metrics.
type Metrics struct {
	reg       *prometheus.Registry
	hub       atomic.Pointer[signaling.Hub]
	messages  *prometheus.CounterVec
	bytes     *prometheus.CounterVec
	delivered *prometheus.CounterVec
	refusals  *prometheus.CounterVec
	evictions *prometheus.CounterVec
	bitrate   prometheus.Histogram
	fps       prometheus.Histogram
	jitter    prometheus.Histogram
	rtt       prometheus.Histogram
	lost      prometheus.Counter
	freezes   prometheus.Counter
	reports   prometheus.Counter

	cluster atomic.Pointer[clusterHolder]

	sockets, rooms, talkers, roomSockets, roomWatchers *prometheus.Desc
	redisUp, nodes, dropped                            *prometheus.Desc
}

// Cluster is what a node sharing rooms through Redis reports
// (*cluster.Cluster).
type Cluster interface {
	// Up reports whether Redis is reachable and the node registered.
	Up() bool
	// Nodes returns the live nodes last counted.
	Nodes() int
	// Dropped returns the messages for other nodes dropped so far.
	Dropped() uint64
}

type clusterHolder struct{ Cluster }

// New returns Metrics with their own registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadcast_messages_total", Help: "Messages routed, by type.",
		}, []string{"type"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadcast_message_bytes_total", Help: "Bytes of messages routed (once per message), by type.",
		}, []string{"type"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadcast_deliveries_total", Help: "Messages delivered to sockets (a room broadcast counts each recipient), by type.",
		}, []string{"type"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadcast_refusals_total", Help: "Events refused with a signaling_error, by code.",
		}, []string{"code"}),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadcast_evictions_total", Help: "Sockets dropped by the server, by reason.",
		}, []string{"reason"}),
		bitrate: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "broadcast_viewer_bitrate_bits_per_second", Help: "Inbound video bitrate watchers report.",
			Buckets: prometheus.ExponentialBuckets(50e3, 2, 10),
		}),
		fps: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "broadcast_viewer_fps", Help: "Video frames per second watchers decode.",
			Buckets: []float64{1, 5, 10, 15, 20, 25, 30, 50, 60},
		}),
		jitter: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "broadcast_viewer_jitter_seconds", Help: "Video jitter watchers report.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 10),
		}),
		rtt: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "broadcast_viewer_rtt_seconds", Help: "Round-trip time watchers report.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 12),
		}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "broadcast_viewer_packets_lost_total", Help: "Packets watchers report lost.",
		}),
		freezes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "broadcast_viewer_freezes_total", Help: "Video freezes watchers report.",
		}),
		reports: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "broadcast_viewer_reports_total", Help: "Quality reports (stats messages) from watchers.",
		}),
		sockets:      prometheus.NewDesc("broadcast_sockets", "Connected sockets.", nil, nil),
		rooms:        prometheus.NewDesc("broadcast_rooms", "Rooms with at least one socket.", nil, nil),
		talkers:      prometheus.NewDesc("broadcast_talkers", "Rooms with a talker.", nil, nil),
		roomSockets:  prometheus.NewDesc("broadcast_room_sockets", "Sockets in the largest rooms on this node; the rest summed as room=\"other\".", []string{"room"}, nil),
		roomWatchers: prometheus.NewDesc("broadcast_room_watchers", "Watchers (members but the talker) in the largest rooms on this node; the rest summed as room=\"other\".", []string{"room"}, nil),
		redisUp:      prometheus.NewDesc("broadcast_redis_up", "1 while Redis is reachable and this node shares rooms through it, else 0 (only with -redis).", nil, nil),
		nodes:        prometheus.NewDesc("broadcast_cluster_nodes", "Live nodes sharing rooms, this one included (only with -redis).", nil, nil),
		dropped:      prometheus.NewDesc("broadcast_cluster_dropped_total", "Messages between nodes lost: dropped while Redis was unreachable or behind, or missed by this node's subscription (only with -redis).", nil, nil),
	}
	m.reg.MustRegister(m.messages, m.bytes, m.delivered, m.refusals, m.evictions,
		m.bitrate, m.fps, m.jitter, m.rtt, m.lost, m.freezes, m.reports, m,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Watch makes the hub's sizes part of each scrape.
func (m *Metrics) Watch(h *signaling.Hub) { m.hub.Store(h) }

// WatchCluster makes the Redis state part of each scrape.
func (m *Metrics) WatchCluster(c Cluster) { m.cluster.Store(&clusterHolder{c}) }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Routed counts a routed message.
func (m *Metrics) Routed(typ string, bytes, recipients int) {
	m.messages.WithLabelValues(typ).Inc()
	m.bytes.WithLabelValues(typ).Add(float64(bytes))
	m.delivered.WithLabelValues(typ).Add(float64(recipients))
}

// Refused counts a refusal.
func (m *Metrics) Refused(code string) { m.refusals.WithLabelValues(code).Inc() }

// Evicted counts an eviction.
func (m *Metrics) Evicted(reason string) { m.evictions.WithLabelValues(reason).Inc() }

// ViewerReport folds a watcher's quality report into the histograms.
func (m *Metrics) ViewerReport(r protocol.Report) {
	m.reports.Inc()
	observe := func(h prometheus.Histogram, v *float64) {
		if v != nil && *v >= 0 {
			h.Observe(*v)
		}
	}
	observe(m.bitrate, r.Bitrate)
	observe(m.fps, r.FPS)
	observe(m.jitter, r.Jitter)
	observe(m.rtt, r.RTT)
	if r.PacketsLost != nil && *r.PacketsLost > 0 {
		m.lost.Add(*r.PacketsLost)
	}
	if r.Freezes != nil && *r.Freezes > 0 {
		m.freezes.Add(*r.Freezes)
	}
}

// Describe sends the descriptions of the hub's gauges.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.sockets
	ch <- m.rooms
	ch <- m.talkers
	ch <- m.roomSockets
	ch <- m.roomWatchers
	ch <- m.redisUp
	ch <- m.nodes
	ch <- m.dropped
}

// Collect reads the hub's sizes and the Redis state.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	if c := m.cluster.Load(); c != nil {
		up := 0.0
		if c.Up() {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(m.redisUp, prometheus.GaugeValue, up)
		ch <- prometheus.MustNewConstMetric(m.nodes, prometheus.GaugeValue, float64(c.Nodes()))
		ch <- prometheus.MustNewConstMetric(m.dropped, prometheus.CounterValue, float64(c.Dropped()))
	}
	h := m.hub.Load()
	if h == nil {
		return
	}
	st := h.Stats()
	ch <- prometheus.MustNewConstMetric(m.sockets, prometheus.GaugeValue, float64(st.Clients))
	ch <- prometheus.MustNewConstMetric(m.rooms, prometheus.GaugeValue, float64(st.Rooms))
	ch <- prometheus.MustNewConstMetric(m.talkers, prometheus.GaugeValue, float64(st.Talkers))
	rooms := h.Rooms()
	sort.Slice(rooms, func(i, j int) bool {
		if rooms[i].Members != rooms[j].Members {
			return rooms[i].Members > rooms[j].Members
		}
		return rooms[i].Name < rooms[j].Name
	})
	var other, otherWatchers int
	for i, r := range rooms {
		watchers := r.Members
		if r.Talker {
			watchers--
		}
		if r.Relay { // the relay's watchers are not members here
			watchers--
		}
		if i < TopRooms {
			ch <- prometheus.MustNewConstMetric(m.roomSockets, prometheus.GaugeValue, float64(r.Members), r.Name)
			ch <- prometheus.MustNewConstMetric(m.roomWatchers, prometheus.GaugeValue, float64(watchers), r.Name)
		} else {
			other += r.Members
			otherWatchers += watchers
		}
	}
	if len(rooms) > TopRooms {
		ch <- prometheus.MustNewConstMetric(m.roomSockets, prometheus.GaugeValue, float64(other), "other")
		ch <- prometheus.MustNewConstMetric(m.roomWatchers, prometheus.GaugeValue, float64(otherWatchers), "other")
	}
}
