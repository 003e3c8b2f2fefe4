package relay

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pion/rtcp"

	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/relay/simulcast"
)

// layerChoice chooses the simulcast layer one watcher's video forwards:
// its simulcast.Selector fed with the watcher's REMB (its receive-side
// bandwidth estimate, for the whole connection, in bits/s) and the loss
// of its receiver reports, or held by its pin (a layer message). The
// watcher is told the layer as it changes.
//
// REMB rather than transport-wide congestion control: the browser does
// the estimating, and the relay stamps no sequence number on each packet
// of each watcher nor keeps per-packet send times to compare with its
// feedback; the cost is an estimate that grows only a little over what
// the watcher receives, which the Selector's probes make up for.
type layerChoice struct {
	t *watcherTrack
	// tell tells the watcher the layer forwarded (an index of the track's
	// layers, or simulcast.Paused) and its pin (an index, or -1).
	tell func(layer, pinned int)

	mu       sync.Mutex
	sel      *simulcast.Selector
	estimate int // the last REMB, bits/s; 0 before the first
	// prevEstimate is the REMB before it.
	prevEstimate int
	loss         float64 // of the last receiver report, 0 to 1
	reports      int     // receiver reports for the watcher's SSRC
	// What the watcher was sent between its last two REMBs (payload,
	// bits/s), and the count and time it is measured from.
	sent      int
	sentBytes uint64
	sentAt    time.Time
	// recovering: back from Paused on a probe, with the REMB the
	// estimator kept through the pause, when the video did not feed it.
	// It climbs from there only at its ramp's pace (8 % a second): the
	// layer is held, unpinned, while it does not fall and the loss stays
	// small, until it carries the layer (the Selector, not updated
	// meanwhile, ends its probe out of the pause, held, at the next
	// estimate past it).
	recovering bool
}

// congestedBelow is the share of what a watcher is sent under which its
// REMB says its link is congested: a receive-side estimator lowers its
// estimate under what it receives (to 85 % of it, in webrtc.org's) only
// when it sees the link's queue grow.
const congestedBelow = 0.9

// rampLoss is the most loss (of a receiver report, 0 to 1) with which a
// rising REMB under what a watcher is sent is taken for its estimator's
// ramp rather than a link that cannot carry the layer.
const rampLoss = 0.025

// newLayerChoice returns t's choice, starting on the highest layer: most
// links carry it, and the watcher's first REMB moves it down at once if
// not.
func newLayerChoice(t *watcherTrack) (*layerChoice, error) {
	l := t.from.layers
	sel, err := simulcast.NewSelector(simulcast.Config{
		Layers: l.selectorLayers(), Start: len(l.rids) - 1, ProbeAfter: probeAfter, ProbeMax: probeMax,
	})
	if err != nil {
		return nil, fmt.Errorf("layer selector: %w", err)
	}
	t.layer = len(l.rids) - 1
	tell := func(layer, pinned int) { t.room.tellLayer(t.w, l, layer, pinned) }
	return &layerChoice{t: t, sel: sel, tell: tell}, nil
}

// handleRTCP takes the watcher's RTCP for its video: a REMB updates its
// estimate and chooses again (at the REMB's pace, about once a second),
// a receiver report for its SSRC its loss.
func (c *layerChoice) handleRTCP(pkts []rtcp.Packet, ssrc uint32) {
	remb := false
	now := time.Now()
	c.mu.Lock()
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			c.prevEstimate, c.estimate = c.estimate, int(min(p.Bitrate, 1e12))
			c.measureSent(now)
			remb = true
		case *rtcp.ReceiverReport:
			for _, r := range p.Reports {
				if r.SSRC == ssrc {
					// The first report's loss is the start's (packets
					// sent before the watcher's SRTP was up), not the
					// link's.
					if c.reports++; c.reports > 1 {
						c.loss = float64(r.FractionLost) / 256
					}
				}
			}
		}
	}
	c.mu.Unlock()
	if remb {
		c.choose(now, false)
	}
}

// measureSent measures what the watcher was sent since the last call, at
// least 200 ms ago: its tracks' payload, in bits/s. Called with mu held.
func (c *layerChoice) measureSent(now time.Time) {
	var bytes uint64
	for _, t := range c.t.w.tracks {
		if d := t.downstream(); d != nil {
			bytes += d.Counters.Bytes.Load()
		}
	}
	dt := now.Sub(c.sentAt)
	switch {
	case c.sentAt.IsZero():
	case dt < 200*time.Millisecond:
		return
	default:
		c.sent = int(float64(bytes-c.sentBytes) * 8 / dt.Seconds())
	}
	c.sentBytes, c.sentAt = bytes, now
}

// choose chooses the layer at now from the last estimate and loss (the
// start layer, or the pinned one, before any estimate), forwards the
// nearest layer the talker sends, and tells the watcher if it changed, or
// if tell.
func (c *layerChoice) choose(now time.Time, tell bool) {
	l := c.t.from.layers
	c.mu.Lock()
	_ = c.sel.SetBitrates(l.bitrates()) // unless the measures do not ascend
	layer, cur := c.sel.Layer(), c.t.currentLayer()
	switch {
	case c.recovering && c.sel.Pinned() < 0 && c.estimate >= c.prevEstimate && c.loss <= rampLoss && c.estimate < c.sel.Need(layer):
		// Back from a pause, the REMB climbing from where the pause left
		// it: the layer holds, and nothing is probed, until it carries it.
	case c.estimate > 0:
		// What the watcher's other video (a shared screen) takes first:
		// a student would rather read the slide than see the face.
		estimate := max(c.estimate-c.t.w.otherVideo(c.t), 1)
		// A REMB at or above what the watcher is sent says nothing of
		// what its link has left: a receiver's estimate stays within
		// about half again of what it receives. Not congested, the
		// layer forwarded is held (only probes move up); below it and not
		// rising, the estimate is the link's, and the layer steps down to
		// fit. A rising estimate under it is a receiver's ramp from its
		// first, low estimates (8 % a second in webrtc.org's), not
		// congestion; so is a first REMB, before what is sent is
		// measured.
		// A rise counts as the ramp while the estimate is at least half
		// of what is sent and the loss small: a link that polices
		// rather than queues loses packets while the estimate climbs.
		ramp := c.estimate > c.prevEstimate && 2*c.estimate >= c.sent && c.loss <= rampLoss
		if cur >= 0 && (ramp || float64(c.estimate) >= congestedBelow*float64(c.sent)) {
			estimate = max(estimate, c.sel.Need(cur))
		}
		was := layer
		layer, _ = c.sel.Update(now, estimate, c.loss)
		c.recovering = was == simulcast.Paused && layer >= 0
	case c.sel.Pinned() >= 0:
		layer = c.sel.Pinned()
	}
	pinned := c.sel.Pinned()
	forwarded := l.nearest(layer)
	// Down to a layer with the estimate under half what the current one
	// needs: the link is swamped, and the current layer's packets would
	// only crowd out the new one's keyframe. It stops at once.
	swamped := c.estimate > 0 && cur >= 0 && forwarded < cur && c.estimate < c.sel.Need(cur)/2
	changed := c.t.setLayer(forwarded, swamped)
	if changed {
		// above_needs: what the layer above the one forwarded needs, in
		// bits/s (0 at the top), against which the estimate was read.
		c.t.room.log.Debug("watcher's layer", "watcher", c.t.w.socketID(), "layer", forwarded, "chosen", layer, "pin", pinned,
			"estimate", c.estimate, "above_needs", c.sel.Need(forwarded+1), "loss", c.loss, "at_once", swamped)
	}
	// Told under mu: the watcher hears the choices in the order made.
	if changed || tell {
		c.tell(forwarded, pinned)
	}
	c.mu.Unlock()
}

// pin takes the watcher's layer message: a layer's name pins it, "auto"
// unpins. The watcher is told the layer in answer. It returns
// ErrBadLayer for any other name.
func (c *layerChoice) pin(name string) error {
	names := protocol.LayerNames(len(c.t.from.layers.rids))
	c.mu.Lock()
	if name == protocol.LayerAuto {
		c.sel.Unpin()
	} else if i := slices.Index(names, name); i >= 0 {
		_ = c.sel.Pin(i) // in range
	} else {
		c.mu.Unlock()
		return fmt.Errorf("%w: %.20q (the layers are %v)", ErrBadLayer, name, names)
	}
	c.mu.Unlock()
	c.choose(time.Now(), true)
	return nil
}

// tellLayer sends the watcher w the layer it is forwarded (an index of l,
// or simulcast.Paused) and its pin (an index, or -1 for auto).
func (r *Room) tellLayer(w *watcher, l *layers, layer, pinned int) {
	names := protocol.LayerNames(len(l.rids))
	m := protocol.Layer{Head: protocol.Head{Type: protocol.TypeLayer, Sendto: w.socketID()}, Layers: names, Pin: protocol.LayerAuto}
	if layer >= 0 {
		m.Current = names[layer]
	} else {
		m.Paused = true
	}
	if pinned >= 0 {
		m.Pin = names[pinned]
	}
	r.send(m)
}
