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
	estimate int     // the last REMB, bits/s; 0 before the first
	loss     float64 // of the last receiver report, 0 to 1
}

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
	c.mu.Lock()
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			c.estimate = int(min(p.Bitrate, 1e12))
			remb = true
		case *rtcp.ReceiverReport:
			for _, r := range p.Reports {
				if r.SSRC == ssrc {
					c.loss = float64(r.FractionLost) / 256
				}
			}
		}
	}
	c.mu.Unlock()
	if remb {
		c.choose(time.Now(), false)
	}
}

// choose chooses the layer at now from the last estimate and loss (the
// start layer, or the pinned one, before any estimate), forwards the
// nearest layer the talker sends, and tells the watcher if it changed, or
// if tell.
func (c *layerChoice) choose(now time.Time, tell bool) {
	l := c.t.from.layers
	c.mu.Lock()
	_ = c.sel.SetBitrates(l.bitrates()) // unless the measures do not ascend
	layer := c.sel.Layer()
	switch {
	case c.estimate > 0:
		layer, _ = c.sel.Update(now, c.estimate, c.loss)
	case c.sel.Pinned() >= 0:
		layer = c.sel.Pinned()
	}
	pinned := c.sel.Pinned()
	forwarded := l.nearest(layer)
	changed := c.t.setLayer(forwarded)
	c.mu.Unlock()
	if changed || tell {
		c.tell(forwarded, pinned)
	}
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
