package relay

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/relay/simulcast"
)

// knownRIDs are the simulcast rids the relay knows the order of, lowest
// first: protocol.SimulcastEncodings', as talk.html and the Go talker send
// them. A talker's other rids are taken lowest first in its SDP's order.
var knownRIDs = protocol.SimulcastRIDs()

// nominalBitrates are a layer's bitrate in bits/s, by its place among
// three, until its own is measured: the MaxBitrate of
// protocol.SimulcastEncodings.
var nominalBitrates = func() []int {
	var rates []int
	for _, e := range protocol.SimulcastEncodings() {
		rates = append(rates, e.MaxBitrate)
	}
	return rates
}()

// Probing (simulcast.Config.ProbeAfter, ProbeMax): a watcher's next layer
// up is tried after this long on a layer with no loss, the wait doubling
// at each failure up to probeMax.
const (
	probeAfter = 8 * time.Second
	probeMax   = 64 * time.Second
)

// layerRateSmoothing is the weight of a new second in a layer's measured
// bitrate (an exponential moving average).
const layerRateSmoothing = 0.3

// layers are the Upstreams of a talker's track, one per simulcast layer
// (encoding), lowest first; a track without simulcast has one. Each is set
// when its first packet comes (pion's OnTrack, per rid).
type layers struct {
	rids []string // "" for a track without simulcast
	ups  []atomic.Pointer[Upstream]
	// rates are each layer's measured bitrate, in bits/s (0: not measured
	// yet, -1: stopped), and bytes its payload bytes at the last measure;
	// measure's.
	rates []atomic.Int64
	bytes []uint64
	idle  []int // measures in a row with nothing sent
}

// maxLayers is how many of a talker's simulcast layers are relayed: the
// first in its SDP's order, those of protocol.SimulcastEncodings or any
// three. A talker cannot make the relay hold a buffer and goroutines for
// every rid it names.
const maxLayers = 3

// newLayers returns the layers of rids (the first maxLayers), ordered
// lowest first.
func newLayers(rids []string) *layers {
	if len(rids) == 0 {
		rids = []string{""}
	}
	rids = slices.Clone(rids[:min(len(rids), maxLayers)])
	if !slices.ContainsFunc(rids, func(r string) bool { return !slices.Contains(knownRIDs, r) }) {
		slices.SortFunc(rids, func(a, b string) int { return slices.Index(knownRIDs, a) - slices.Index(knownRIDs, b) })
	}
	n := len(rids)
	return &layers{rids: rids, ups: make([]atomic.Pointer[Upstream], n), rates: make([]atomic.Int64, n), bytes: make([]uint64, n), idle: make([]int, n)}
}

// simulcast reports whether the track has more than one layer.
func (l *layers) simulcast() bool { return len(l.rids) > 1 }

// set makes up the Upstream of rid's layer; it reports false for a rid
// that is not the track's.
func (l *layers) set(rid string, up *Upstream) bool {
	i := slices.Index(l.rids, rid)
	if i < 0 {
		return false
	}
	l.ups[i].Store(up)
	return true
}

// all returns every layer's Upstream that came, lowest first.
func (l *layers) all() []*Upstream {
	var ups []*Upstream
	for i := range l.ups {
		if u := l.ups[i].Load(); u != nil {
			ups = append(ups, u)
		}
	}
	return ups
}

// nearest returns the layer to forward for the choice i: i if it is
// sending, or else the nearest one below it that is, or else above, or
// else i if it came; simulcast.Paused for a choice of Paused or no layer
// come.
func (l *layers) nearest(i int) int {
	if i < 0 {
		return simulcast.Paused
	}
	i = min(i, len(l.ups)-1)
	for j := i; j >= 0; j-- {
		if l.ups[j].Load() != nil && l.rates[j].Load() >= 0 {
			return j
		}
	}
	for j := i + 1; j < len(l.ups); j++ {
		if l.ups[j].Load() != nil && l.rates[j].Load() >= 0 {
			return j
		}
	}
	// None sending (the talker's camera off): the choice stays, for
	// when it sends again; the watcher's link is not at fault.
	if l.ups[i].Load() != nil {
		return i
	}
	return simulcast.Paused
}

// rateOf returns the measured bitrate of the layer whose Upstream is up,
// in bits/s; 0 if it is none of them or not measured.
func (l *layers) rateOf(up *Upstream) int {
	for i := range l.ups {
		if up != nil && l.ups[i].Load() == up {
			return int(max(l.rates[i].Load(), 0))
		}
	}
	return 0
}

// upstream returns layer i's Upstream, or nil.
func (l *layers) upstream(i int) *Upstream {
	if i < 0 || i >= len(l.ups) {
		return nil
	}
	return l.ups[i].Load()
}

// measure updates each layer's bitrate from its payload bytes over the dt
// since the last call: a layer that sent nothing in dt is stopped (rate
// -1: a talker's encoder can drop a layer when its uplink or CPU is
// short), and is forwarded to no watcher until it sends again. Called
// from one goroutine.
func (l *layers) measure(dt time.Duration) {
	if dt <= 0 {
		return
	}
	for i := range l.ups {
		u := l.ups[i].Load()
		if u == nil {
			continue
		}
		b := u.Counters.Bytes.Load()
		sent := b - l.bytes[i]
		l.bytes[i] = b
		if sent == 0 {
			// Stopped after two empty measures: not for a second's stall.
			if l.idle[i]++; l.idle[i] >= 2 {
				l.rates[i].Store(-1)
			}
			continue
		}
		l.idle[i] = 0
		rate := float64(sent*8) / dt.Seconds()
		if old := l.rates[i].Load(); old > 0 {
			rate = layerRateSmoothing*rate + (1-layerRateSmoothing)*float64(old)
		}
		l.rates[i].Store(max(int64(rate), 1))
	}
}

// bitrates returns each layer's bitrate for a watcher's simulcast.Selector,
// in bits/s, lowest first: the measured ones if every layer has one and
// they ascend, or else the nominal ones.
func (l *layers) bitrates() []int {
	n := len(l.rids)
	out := make([]int, n)
	ok := true
	for i := range out {
		out[i] = int(l.rates[i].Load())
		ok = ok && out[i] > 0 && (i == 0 || out[i] > out[i-1])
	}
	if ok {
		return out
	}
	off := max(len(nominalBitrates)-n, 0)
	for i := range out {
		if i+off < len(nominalBitrates) {
			out[i] = nominalBitrates[i+off]
		} else {
			out[i] = out[i-1] * 3
		}
	}
	return out
}

// selectorLayers returns the layers as a simulcast.Config has them.
func (l *layers) selectorLayers() []simulcast.Layer {
	rates := l.bitrates()
	out := make([]simulcast.Layer, len(rates))
	for i, r := range rates {
		out[i] = simulcast.Layer{RID: l.rids[i], Bitrate: r}
	}
	return out
}

// ridsOf returns the rids of a receiver's tracks (its simulcast layers),
// in its SDP's order; none without simulcast.
func ridsOf(receiver *webrtc.RTPReceiver) []string {
	var rids []string
	for _, t := range receiver.Tracks() {
		if t.RID() != "" {
			rids = append(rids, t.RID())
		}
	}
	return rids
}
