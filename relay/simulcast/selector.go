package simulcast

import (
	"fmt"
	"slices"
	"time"
)

// Paused is the layer Selector.Update returns when the watcher's link does
// not carry even the lowest layer: no video, the audio goes on.
const Paused = -1

// Defaults of Config.
const (
	DefaultAudioBitrate = 48_000
	DefaultHeadroom     = 0.9
	DefaultUpMargin     = 1.2
	DefaultUpAfter      = 4 * time.Second
	DefaultLossDown     = 0.10
	DefaultProbeFor     = 10 * time.Second
)

// probeFall is the fall of the estimate during a probe, from its highest,
// that ends the probe as failed: a receiver's estimator lowers its
// estimate only when it sees congestion.
const probeFall = 0.9

// Layer is one simulcast encoding of the talker's video.
type Layer struct {
	// RID names the encoding (RFC 8851), as the talker's SDP does.
	RID string
	// Bitrate is what the encoding needs, in bits/s.
	Bitrate int
}

// Config describes a talker's layers and the selector's margins.
type Config struct {
	// Layers, lowest bitrate first; at least one, bitrates ascending and
	// above 0.
	Layers []Layer
	// AudioBitrate is the part of the budget kept for audio, in bits/s; 0
	// for DefaultAudioBitrate.
	AudioBitrate int
	// Headroom is the share of the estimate media may use, in (0, 1]; 0
	// for DefaultHeadroom.
	Headroom float64
	// UpMargin is how much more than the next layer's bitrate the budget
	// must carry to move up to it, at least 1; 0 for DefaultUpMargin.
	UpMargin float64
	// UpAfter is how long the budget must carry the next layer before
	// moving up; 0 for DefaultUpAfter.
	UpAfter time.Duration
	// LossDown is the fraction of packets lost (0 to 1) above which the
	// selector steps down; 0 for DefaultLossDown.
	LossDown float64
	// Start is the layer before the first estimate: an index of Layers
	// (0, the lowest, by default).
	Start int
	// ProbeAfter, if above 0, has the selector try the next layer up
	// (a probe) once the current one has held this long with no loss,
	// whatever the estimate: an estimate made by the receiver (REMB)
	// grows only so far above what it receives, so it may never show
	// room for the next layer by itself (see the package documentation).
	// Each failed probe doubles the wait, up to ProbeMax; 0 probes never.
	ProbeAfter time.Duration
	// ProbeMax bounds the wait between probes; 0 for 8 × ProbeAfter.
	ProbeMax time.Duration
	// PausedProbeMax bounds the wait between probes out of Paused, which
	// alone bring a paused watcher's video back (its estimate, fed by no
	// video, stays where it fell); 0 for 2 × ProbeAfter. A failed one
	// costs the watcher a moment of the lowest layer's loss.
	PausedProbeMax time.Duration
	// ProbeFor is how long a probe lasts: it fails at once on loss over
	// LossDown or an estimate falling by probeFall from the highest of
	// the probe, and at its end unless the budget carries the layer; 0
	// for DefaultProbeFor.
	ProbeFor time.Duration
}

func (c Config) withDefaults() Config {
	if c.AudioBitrate == 0 {
		c.AudioBitrate = DefaultAudioBitrate
	}
	if c.Headroom == 0 {
		c.Headroom = DefaultHeadroom
	}
	if c.UpMargin == 0 {
		c.UpMargin = DefaultUpMargin
	}
	if c.UpAfter == 0 {
		c.UpAfter = DefaultUpAfter
	}
	if c.LossDown == 0 {
		c.LossDown = DefaultLossDown
	}
	if c.ProbeMax == 0 {
		c.ProbeMax = 8 * c.ProbeAfter
	}
	if c.ProbeFor == 0 {
		c.ProbeFor = DefaultProbeFor
	}
	if c.PausedProbeMax == 0 {
		c.PausedProbeMax = min(2*c.ProbeAfter, c.ProbeMax)
	}
	return c
}

func (c Config) check() error {
	if len(c.Layers) == 0 {
		return fmt.Errorf("%w: no layer", ErrBadConfig)
	}
	for i, l := range c.Layers {
		if l.Bitrate <= 0 || (i > 0 && l.Bitrate <= c.Layers[i-1].Bitrate) {
			return fmt.Errorf("%w: layer %d (%q) at %d bits/s: bitrates must ascend from above 0", ErrBadConfig, i, l.RID, l.Bitrate)
		}
	}
	switch {
	case c.AudioBitrate < 0:
		return fmt.Errorf("%w: audio bitrate %d", ErrBadConfig, c.AudioBitrate)
	case c.Headroom <= 0 || c.Headroom > 1:
		return fmt.Errorf("%w: headroom %v", ErrBadConfig, c.Headroom)
	case c.UpMargin < 1:
		return fmt.Errorf("%w: up margin %v", ErrBadConfig, c.UpMargin)
	case c.UpAfter < 0:
		return fmt.Errorf("%w: up after %v", ErrBadConfig, c.UpAfter)
	case c.LossDown <= 0 || c.LossDown > 1:
		return fmt.Errorf("%w: loss threshold %v", ErrBadConfig, c.LossDown)
	case c.Start < 0 || c.Start >= len(c.Layers):
		return fmt.Errorf("%w: start layer %d of %d", ErrBadConfig, c.Start, len(c.Layers))
	case c.ProbeAfter < 0 || c.ProbeMax < c.ProbeAfter || c.ProbeFor < 0 || c.PausedProbeMax < 0:
		return fmt.Errorf("%w: probes after %v, at most %v, for %v", ErrBadConfig, c.ProbeAfter, c.ProbeMax, c.ProbeFor)
	}
	return nil
}

// Selector chooses one watcher's layer (see the package documentation).
// It is not safe for concurrent use: its caller serialises the calls.
type Selector struct {
	cfg     Config
	layer   int       // the current choice: an index of cfg.Layers, or Paused
	started bool      // Update was called
	upSince time.Time // since when the budget carries layer+1; zero if it does not
	pinned  int       // an index of cfg.Layers, or -1 for none

	// Probes (Config.ProbeAfter): the state, since when, the wait before
	// the next and, while probing, the highest estimate seen.
	probe     probeState
	probeAt   time.Time
	probeWait time.Duration
	probePeak int
	probeOK   time.Time // when the last probe that held ended
}

// probeState is where a Selector is in probing the next layer up.
type probeState uint8

const (
	// holding: on a layer, counting towards the next probe from probeAt.
	holding probeState = iota
	// probing: on the layer probed since probeAt.
	probing
)

// NewSelector returns a Selector for cfg, at Config.Start until the first
// estimate. It returns an error wrapping ErrBadConfig for layers
// that are missing or not in ascending bitrate, or margins out of range.
func NewSelector(cfg Config) (*Selector, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Selector{cfg: cfg, layer: cfg.Start, pinned: -1, probeWait: cfg.ProbeAfter}, nil
}

// Layer returns the current choice: an index of Config.Layers, or Paused.
func (s *Selector) Layer() int { return s.layer }

// Pin keeps the watcher at layer whatever its estimate (but for Paused),
// as of the next Update. It returns ErrNoLayer for an index out of range.
func (s *Selector) Pin(layer int) error {
	if layer < 0 || layer >= len(s.cfg.Layers) {
		return fmt.Errorf("%w: %d of %d", ErrNoLayer, layer, len(s.cfg.Layers))
	}
	s.pinned = layer
	return nil
}

// SetBitrates sets the layers' bitrates, as measured: one per layer, in
// bits/s, lowest first, ascending from above 0. The current layer is kept;
// the next Update weighs the new ones. It returns an error wrapping
// ErrBadConfig, changing nothing, for any other.
func (s *Selector) SetBitrates(bitrates []int) error {
	if len(bitrates) != len(s.cfg.Layers) {
		return fmt.Errorf("%w: %d bitrates for %d layers", ErrBadConfig, len(bitrates), len(s.cfg.Layers))
	}
	next := s.cfg
	next.Layers = slices.Clone(s.cfg.Layers)
	for i, b := range bitrates {
		next.Layers[i].Bitrate = b
	}
	if err := next.check(); err != nil {
		return err
	}
	s.cfg = next
	return nil
}

// Pinned returns the pinned layer, or -1 for none.
func (s *Selector) Pinned() int { return s.pinned }

// Layers returns how many layers the selector chooses from.
func (s *Selector) Layers() int { return len(s.cfg.Layers) }

// Unpin lets the estimate choose again, as of the next Update.
func (s *Selector) Unpin() { s.pinned = -1 }

// Update takes the watcher's bandwidth estimate at now (estimate in bits/s,
// from REMB or transport-wide congestion control) and the fraction of its
// packets lost since the last one (0 to 1, as in a receiver report), and
// returns the layer to forward (an index of Config.Layers, or Paused) and
// whether it changed.
func (s *Selector) Update(now time.Time, estimate int, loss float64) (layer int, changed bool) {
	prev := s.layer
	if s.probe == probing {
		s.layer = s.probed(now, estimate, loss)
	} else {
		s.layer = s.next(now, s.budget(estimate), loss)
		if s.layer == prev && s.probeDue(now, estimate, loss) {
			s.layer++
			s.probe, s.probePeak = probing, estimate
		}
	}
	if s.layer < prev && !s.probeOK.IsZero() && now.Sub(s.probeOK) < s.cfg.ProbeFor {
		// Down soon after a probe that held: it did not hold after all.
		s.probeWait, s.probeOK = min(2*s.probeWait, s.cfg.ProbeMax), time.Time{}
	}
	if !s.started || s.layer != prev {
		s.probeAt = now
	}
	s.started = true
	switch {
	case s.layer > prev:
		s.upSince = now // the next layer up counts from this move
	case s.layer < prev:
		s.upSince = time.Time{}
	}
	return s.layer, s.layer != prev
}

// probeDue reports whether the next layer up is to be probed at now: the
// selector probes, it is on a layer below the highest, unpinned (or
// paused: a pinned watcher's video comes back by a probe too), with loss
// under a quarter of LossDown (a lossy link's steady loss does not bar
// probes), the budget carrying its layer, for the probe wait.
func (s *Selector) probeDue(now time.Time, estimate int, loss float64) bool {
	return s.cfg.ProbeAfter > 0 && s.started && (s.pinned < 0 || s.layer == Paused) && loss < s.cfg.LossDown/4 &&
		s.layer < len(s.cfg.Layers)-1 &&
		s.carried(s.budget(estimate), 1) >= s.layer &&
		now.Sub(s.probeAt) >= s.wait()
}

// wait is how long after the last move the next probe is due: the probe
// wait, at most Config.PausedProbeMax out of Paused.
func (s *Selector) wait() time.Duration {
	if s.layer == Paused {
		return min(s.probeWait, s.cfg.PausedProbeMax)
	}
	return s.probeWait
}

// probed is the layer at now while probing: the probed one while the
// probe holds; one down, the wait doubled, if it fails; and once it has
// lasted ProbeFor, the probed layer (the wait back to ProbeAfter; the
// pinned one, for a pinned watcher's probe out of Paused) if the budget
// carries it, else the layer the budget carries.
func (s *Selector) probed(now time.Time, estimate int, loss float64) int {
	s.probePeak = max(s.probePeak, estimate)
	fell := float64(estimate) < probeFall*float64(s.probePeak)
	fits := s.carried(s.budget(estimate), 1)
	switch {
	case s.pinned >= 0 && s.layer != 0:
		// Pinned during a probe up: the pin, at once. (A pinned
		// watcher's probe out of Paused runs to its end.)
		s.probe = holding
		return s.next(now, s.budget(estimate), loss)
	case loss > s.cfg.LossDown || fell:
		s.failProbe()
		return max(min(s.layer-1, fits), Paused)
	case now.Sub(s.probeAt) < s.cfg.ProbeFor:
		return s.layer
	case fits >= s.layer:
		s.probe, s.probeWait, s.probeOK = holding, s.cfg.ProbeAfter, now
		if s.pinned >= 0 {
			return s.pinned
		}
		return s.layer
	}
	s.failProbe()
	return max(min(s.layer-1, fits), Paused)
}

// failProbe ends a probe that failed: the next waits twice as long.
func (s *Selector) failProbe() {
	s.probe = holding
	s.probeWait = min(2*s.probeWait, s.cfg.ProbeMax)
}

// Need returns the estimate, in bits/s, whose budget carries layer (an
// index of Config.Layers) exactly: its bitrate and the audio's, over the
// headroom. It returns 0 for Paused or an index out of range.
func (s *Selector) Need(layer int) int {
	if layer < 0 || layer >= len(s.cfg.Layers) {
		return 0
	}
	return int(float64(s.cfg.Layers[layer].Bitrate+s.cfg.AudioBitrate)/s.cfg.Headroom) + 1
}

// budget is what the video may use of estimate, in bits/s.
func (s *Selector) budget(estimate int) int {
	return int(float64(estimate)*s.cfg.Headroom) - s.cfg.AudioBitrate
}

// carried returns the highest layer whose bitrate times margin fits in
// budget, or Paused.
func (s *Selector) carried(budget int, margin float64) int {
	best := Paused
	for i, l := range s.cfg.Layers {
		if float64(l.Bitrate)*margin <= float64(budget) {
			best = i
		}
	}
	return best
}

// next is the layer for budget and loss at now.
func (s *Selector) next(now time.Time, budget int, loss float64) int {
	fits := s.carried(budget, 1)
	switch {
	case s.pinned >= 0:
		if fits == Paused {
			return Paused
		}
		return s.pinned
	case !s.started:
		if loss > s.cfg.LossDown {
			return max(min(fits, 0), Paused)
		}
		return fits
	case fits < s.layer:
		return fits
	case loss > s.cfg.LossDown:
		return max(s.layer-1, min(s.layer, 0))
	case s.carried(budget, s.cfg.UpMargin) <= s.layer:
		s.upSince = time.Time{}
		return s.layer
	case s.upSince.IsZero():
		s.upSince = now
	}
	if now.Sub(s.upSince) >= s.cfg.UpAfter {
		return s.layer + 1
	}
	return s.layer
}
