package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/broadcast-service/broadcast/recording"
)

// Recorder is what the recording metrics read: *recording.Recorder.
type Recorder interface {
	Stats() recording.Stats
}

// WatchRecorder exports r's figures at each scrape.
func (m *Metrics) WatchRecorder(r Recorder) { m.reg.MustRegister(newRecorderCollector(r)) }

// recorderCollector reads a Recorder's Stats at each scrape.
type recorderCollector struct {
	r                                       Recorder
	active, started, failed, bytes, dropped *prometheus.Desc
}

func newRecorderCollector(r Recorder) *recorderCollector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &recorderCollector{
		r:       r,
		active:  d("broadcast_recordings", "Rooms being recorded on this node."),
		started: d("broadcast_recordings_started_total", "Recordings started on this node."),
		failed:  d("broadcast_recording_errors_total", "Recordings stopped by a write error (a full disk) or not finalised; the broadcasts went on."),
		bytes:   d("broadcast_recording_bytes_total", "Bytes of audio and video frames written into recordings."),
		dropped: d("broadcast_recording_dropped_packets_total", "RTP packets left out of recordings whose writer fell behind the relay."),
	}
}

func (c *recorderCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.active, c.started, c.failed, c.bytes, c.dropped} {
		ch <- d
	}
}

func (c *recorderCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Stats()
	ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(s.Active))
	ch <- prometheus.MustNewConstMetric(c.started, prometheus.CounterValue, float64(s.Started))
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(s.Failed))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(s.Bytes))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(s.DroppedPackets))
}
