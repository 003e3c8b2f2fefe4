package simulcast

import (
	"fmt"
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
)

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
	}
	return nil
}

// Selector chooses one watcher's layer (see the package documentation).
// It is not safe for concurrent use: one goroutine, the one reading the
// watcher's RTCP, calls it.
type Selector struct {
	cfg     Config
	layer   int       // the current choice: an index of cfg.Layers, or Paused
	started bool      // Update was called
	upSince time.Time // since when the budget carries layer+1; zero if it does not
	pinned  int       // an index of cfg.Layers, or -1 for none
}

// NewSelector returns a Selector for cfg, at the lowest layer until the
// first estimate. It returns an error wrapping ErrBadConfig for layers
// that are missing or not in ascending bitrate, or margins out of range.
func NewSelector(cfg Config) (*Selector, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Selector{cfg: cfg, pinned: -1}, nil
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

// Unpin lets the estimate choose again, as of the next Update.
func (s *Selector) Unpin() { s.pinned = -1 }

// Update takes the watcher's bandwidth estimate at now (estimate in bits/s,
// from REMB or transport-wide congestion control) and the fraction of its
// packets lost since the last one (0 to 1, as in a receiver report), and
// returns the layer to forward (an index of Config.Layers, or Paused) and
// whether it changed.
func (s *Selector) Update(now time.Time, estimate int, loss float64) (layer int, changed bool) {
	prev := s.layer
	s.layer = s.next(now, s.budget(estimate), loss)
	s.started = true
	switch {
	case s.layer > prev:
		s.upSince = now // the next layer up counts from this move
	case s.layer < prev:
		s.upSince = time.Time{}
	}
	return s.layer, s.layer != prev
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
