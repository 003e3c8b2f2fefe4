package simulcast

import (
	"errors"
	"testing"
	"time"
)

// Three layers as a talker might send them: quarter, half and full
// resolution.
var layers = []Layer{{"q", 150_000}, {"h", 500_000}, {"f", 1_500_000}}

func newSelector(t *testing.T) *Selector {
	t.Helper()
	s, err := NewSelector(Config{Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run feeds s one estimate a second (the pace of REMB) from t0 for d, and
// returns the layer at the end and how many times it changed.
func run(s *Selector, t0 time.Time, d time.Duration, estimate int, loss float64) (layer, changes int) {
	for at := time.Duration(0); at < d; at += time.Second {
		if _, changed := s.Update(t0.Add(at), estimate, loss); changed {
			changes++
		}
	}
	return s.Layer(), changes
}

func TestFreeLinkKeepsTheHighLayer(t *testing.T) {
	s := newSelector(t)
	t0 := time.Unix(0, 0)
	if got, _ := s.Update(t0, 5_000_000, 0); got != 2 {
		t.Fatalf("first estimate of 5 Mbit/s: layer %d, want 2 at once", got)
	}
	if got, changes := run(s, t0.Add(time.Second), time.Minute, 5_000_000, 0); got != 2 || changes != 0 {
		t.Fatalf("a minute at 5 Mbit/s: layer %d after %d switches, want 2 and none", got, changes)
	}
}

func TestDropStepsDownAtOnce(t *testing.T) {
	s := newSelector(t)
	t0 := time.Unix(0, 0)
	run(s, t0, 10*time.Second, 5_000_000, 0)
	// 400 kbit/s: 0.9 × 400k - 48k = 312k for video, which carries "q"
	// (150k) but not "h" (500k).
	if got, changed := s.Update(t0.Add(10*time.Second), 400_000, 0); got != 0 || !changed {
		t.Fatalf("dropped to 400 kbit/s: layer %d (changed %v), want 0 at once", got, changed)
	}
}

// An estimate that wavers around a layer's bitrate moves down once and
// stays: going up needs UpMargin more than going down.
func TestWaveringLinkDoesNotFlap(t *testing.T) {
	s := newSelector(t)
	t0 := time.Unix(0, 0)
	s.Update(t0, 700_000, 0) // 582k: "h"
	changes := 0
	for i := range 120 {
		est := 600_000 // 492k: not "h"
		if i%2 == 1 {
			est = 640_000 // 528k: "h", but not with 20% to spare
		}
		if _, changed := s.Update(t0.Add(time.Duration(i+1)*time.Second), est, 0); changed {
			changes++
		}
	}
	if got := s.Layer(); got != 0 || changes != 1 {
		t.Fatalf("two minutes wavering around 500 kbit/s: layer %d after %d switches, want 0 after 1", got, changes)
	}
}

func TestRecoveryGoesUpOneLayerPerUpAfter(t *testing.T) {
	s := newSelector(t)
	t0 := time.Unix(0, 0)
	s.Update(t0, 5_000_000, 0)
	s.Update(t0.Add(time.Second), 300_000, 0) // down to "q"
	at := t0.Add(2 * time.Second)
	var ups []time.Duration
	for ; at.Before(t0.Add(20 * time.Second)); at = at.Add(100 * time.Millisecond) {
		if _, changed := s.Update(at, 5_000_000, 0); changed {
			ups = append(ups, at.Sub(t0.Add(2*time.Second)))
		}
	}
	if len(ups) != 2 || ups[0] != DefaultUpAfter || ups[1] != 2*DefaultUpAfter || s.Layer() != 2 {
		t.Fatalf("back at 5 Mbit/s: moved up after %v, layer %d; want one layer after each %v, to 2", ups, s.Layer(), DefaultUpAfter)
	}
}

// Below the lowest layer's need the video pauses, audio first; it resumes
// by itself once the link carries it again.
func TestBelowTheLowestLayerPausesAndResumes(t *testing.T) {
	s := newSelector(t)
	t0 := time.Unix(0, 0)
	s.Update(t0, 5_000_000, 0)
	// 60 kbit/s: 54k, less than the audio's 48k leaves for any video.
	if got, _ := s.Update(t0.Add(time.Second), 60_000, 0); got != Paused {
		t.Fatalf("at 60 kbit/s: layer %d, want Paused", got)
	}
	if got, changes := run(s, t0.Add(2*time.Second), 30*time.Second, 60_000, 0); got != Paused || changes != 0 {
		t.Fatalf("30 s at 60 kbit/s: layer %d after %d switches, want Paused and none", got, changes)
	}
	if got, _ := run(s, t0.Add(32*time.Second), 2*DefaultUpAfter, 1_000_000, 0); got < 0 {
		t.Fatalf("back at 1 Mbit/s: layer %d, want the video back", got)
	}
}

// Loss steps down one layer and bars moving up, but never pauses the
// video by itself.
func TestLossStepsDownButNeverPauses(t *testing.T) {
	s := newSelector(t)
	t0 := time.Unix(0, 0)
	s.Update(t0, 5_000_000, 0)
	if got, _ := s.Update(t0.Add(time.Second), 5_000_000, 0.2); got != 1 {
		t.Fatalf("20%% loss: layer %d, want 1", got)
	}
	if got, _ := run(s, t0.Add(2*time.Second), 30*time.Second, 5_000_000, 0.2); got != 0 {
		t.Fatalf("30 s of 20%% loss: layer %d, want 0 (the lowest, not Paused)", got)
	}
	if got, _ := run(s, t0.Add(32*time.Second), 30*time.Second, 5_000_000, 0.01); got != 2 {
		t.Fatalf("loss gone: layer %d, want back to 2", got)
	}
}

func TestPinHoldsALayerButNotAgainstPause(t *testing.T) {
	s := newSelector(t)
	t0 := time.Unix(0, 0)
	if err := s.Pin(2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Update(t0, 400_000, 0); got != 2 {
		t.Fatalf("pinned to 2 at 400 kbit/s: layer %d, want 2", got)
	}
	s.Unpin()
	if got, _ := s.Update(t0.Add(time.Second), 400_000, 0); got != 0 {
		t.Fatalf("unpinned at 400 kbit/s: layer %d, want 0", got)
	}
	if err := s.Pin(2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Update(t0.Add(2*time.Second), 60_000, 0); got != Paused {
		t.Fatalf("pinned to 2 at 60 kbit/s: layer %d, want Paused (audio first)", got)
	}
	if err := s.Pin(3); !errors.Is(err, ErrNoLayer) {
		t.Fatalf("Pin(3) of 3 layers: %v, want ErrNoLayer", err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Layers: []Layer{{"f", 1_500_000}, {"q", 150_000}}},
		{Layers: []Layer{{"q", 0}}},
		{Layers: layers, Headroom: 1.5},
		{Layers: layers, UpMargin: 0.5},
		{Layers: layers, LossDown: 2},
		{Layers: layers, AudioBitrate: -1},
	} {
		if _, err := NewSelector(cfg); !errors.Is(err, ErrBadConfig) {
			t.Errorf("NewSelector(%+v): %v, want ErrBadConfig", cfg, err)
		}
	}
}

// remb models a receiver's estimate (REMB) of a link of capacity bits/s
// over which the layer's bitrate and the audio are sent: a second's step
// from estimate. Congested, it falls to 85 % of what gets through; else it
// grows 8 % a second, but never past 1.5 times what it receives: an
// estimator that sees only the traffic sent cannot tell more.
func remb(estimate, capacity, sent int) int {
	if sent > capacity {
		return capacity * 85 / 100
	}
	return min(estimate*108/100, sent*3/2+10_000)
}

// probeRun runs s for d over a link of capacity, one estimate a second
// from the model above, and returns the layer at the end and how many
// times it changed.
func probeRun(s *Selector, t0 time.Time, d time.Duration, estimate *int, capacity int) (layer, changes int) {
	return probeRunLoss(s, t0, d, estimate, func(time.Duration) int { return capacity }, 0)
}

// A receiver's estimate never shows room for the next layer by itself;
// probes find it, and a free link ends on the highest layer and stays.
func TestProbesFindAFreeLink(t *testing.T) {
	s, err := NewSelector(Config{Layers: layers, ProbeAfter: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(0, 0)
	estimate := 300_000
	if got, _ := probeRun(s, t0, time.Minute, &estimate, 10_000_000); got != 2 {
		t.Fatalf("a minute on a free link from 300 kbit/s: layer %d, want 2", got)
	}
	if got, changes := probeRun(s, t0.Add(time.Minute), 2*time.Minute, &estimate, 10_000_000); got != 2 || changes != 0 {
		t.Fatalf("two more minutes: layer %d after %d switches, want 2 and none", got, changes)
	}
	// Without probes the estimate alone never gets there.
	plain := newSelector(t)
	estimate = 300_000
	if got, _ := probeRun(plain, t0, 3*time.Minute, &estimate, 10_000_000); got != 0 {
		t.Fatalf("no probes, three minutes on a free link: layer %d, want 0 (the estimate stays under the next layer)", got)
	}
}

// On a link that carries the low layer but not the next, each failed probe
// doubles the wait: after a few minutes at most one probe a ProbeMax.
func TestFailedProbesBackOff(t *testing.T) {
	s, err := NewSelector(Config{Layers: layers, ProbeAfter: 8 * time.Second, ProbeMax: 64 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(0, 0)
	estimate := 300_000
	_, early := probeRun(s, t0, 3*time.Minute, &estimate, 400_000)
	got, late := probeRun(s, t0.Add(3*time.Minute), time.Minute, &estimate, 400_000)
	if got != 0 {
		t.Fatalf("400 kbit/s link: layer %d, want 0", got)
	}
	if late > 2 {
		t.Fatalf("400 kbit/s link, fourth minute: %d switches, want at most one probe (2)", late)
	}
	if early < 2 {
		t.Fatalf("400 kbit/s link, first three minutes: %d switches, want the probes", early)
	}
	t.Logf("switches: %d in the first three minutes, %d in the fourth", early, late)
}

// A pin ends a probe and holds.
func TestPinEndsAProbe(t *testing.T) {
	s, err := NewSelector(Config{Layers: layers, ProbeAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(0, 0)
	s.Update(t0, 300_000, 0)
	if got, _ := s.Update(t0.Add(2*time.Second), 300_000, 0); got != 1 {
		t.Fatalf("probe due: layer %d, want 1", got)
	}
	if err := s.Pin(0); err != nil {
		t.Fatal(err)
	}
	if got, _ := run(s, t0.Add(3*time.Second), time.Minute, 300_000, 0); got != 0 {
		t.Fatalf("pinned to 0: layer %d", got)
	}
}

// probeRunLoss is probeRun with a steady loss, and a capacity by time.
func probeRunLoss(s *Selector, t0 time.Time, d time.Duration, estimate *int, capacity func(time.Duration) int, loss float64) (layer, changes int) {
	for at := time.Duration(0); at < d; at += time.Second {
		sent := DefaultAudioBitrate
		if l := s.Layer(); l >= 0 {
			sent += layers[l].Bitrate
		}
		*estimate = remb(*estimate, capacity(at), sent)
		if _, changed := s.Update(t0.Add(at), *estimate, loss); changed {
			changes++
		}
	}
	return s.Layer(), changes
}

// A dip below the lowest layer pauses the video; once the link is back,
// probes bring it back, though the estimate alone (audio only) never
// would; a pinned watcher comes back to its pin.
func TestPausedComesBackByProbes(t *testing.T) {
	dip := func(at time.Duration) int {
		if at >= 20*time.Second && at < 30*time.Second {
			return 150_000
		}
		return 10_000_000
	}
	for _, pin := range []int{-1, 0} {
		s, err := NewSelector(Config{Layers: layers, Start: 2, ProbeAfter: 8 * time.Second, ProbeMax: 64 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if pin >= 0 {
			_ = s.Pin(pin)
		}
		estimate := 3_000_000
		t0 := time.Unix(0, 0)
		paused := false
		for at := time.Duration(0); at < 10*time.Minute; at += time.Second {
			probeRunLoss(s, t0.Add(at), time.Second, &estimate, func(time.Duration) int { return dip(at) }, 0)
			paused = paused || s.Layer() == Paused
		}
		want := 2
		if pin >= 0 {
			want = pin
		}
		if !paused || s.Layer() != want {
			t.Errorf("pin %d: paused in the dip %v, layer %d ten minutes on, want %d", pin, paused, s.Layer(), want)
		}
	}
}

// Steady loss under a quarter of LossDown (Wi-Fi's) does not bar probes.
func TestSmallLossStillProbes(t *testing.T) {
	s, err := NewSelector(Config{Layers: layers, ProbeAfter: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	estimate := 300_000
	if got, _ := probeRunLoss(s, time.Unix(0, 0), 3*time.Minute, &estimate, func(time.Duration) int { return 10_000_000 }, 0.004); got != 2 {
		t.Fatalf("0.4%% loss on a free link: layer %d after three minutes, want 2", got)
	}
}

// An estimate that a probe's end just reaches, then falls back under:
// the drop after the probe counts as its failure, and the probes back off.
func TestProbeThatBarelyHoldsBacksOff(t *testing.T) {
	s, err := NewSelector(Config{Layers: layers, ProbeAfter: 8 * time.Second, ProbeMax: 64 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(0, 0)
	changes := 0
	for at := time.Duration(0); at < 10*time.Minute; at += time.Second {
		estimate := 600_000
		if s.probe == probing && at%(10*time.Second) == 9*time.Second {
			estimate = 612_000 // just enough at the probe's end: 0.9 × 612k - 48k = 502.8k
		}
		if _, changed := s.Update(t0.Add(at), estimate, 0); changed {
			changes++
		}
	}
	if changes > 30 {
		t.Fatalf("%d switches in ten minutes: the probes do not back off", changes)
	}
	t.Logf("%d switches in ten minutes", changes)
}

// A long dip fails many probes out of Paused, each doubling the wait;
// yet once the link is back, the next probe out of Paused comes within
// PausedProbeMax (2 × ProbeAfter), not the 64 s other probes wait.
func TestPausedProbesWaitLittle(t *testing.T) {
	s, err := NewSelector(Config{Layers: layers, Start: 2, ProbeAfter: 8 * time.Second, ProbeMax: 64 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(0, 0)
	estimate := 3_000_000
	back := 5 * time.Minute
	link := func(at time.Duration) int {
		if at < back {
			return 60_000
		}
		return 10_000_000
	}
	var resumed time.Duration = -1
	for at := time.Duration(0); at < back+time.Minute; at += time.Second {
		probeRunLoss(s, t0.Add(at), time.Second, &estimate, func(time.Duration) int { return link(at) }, 0)
		if at >= back && resumed < 0 && s.Layer() != Paused {
			resumed = at - back
		}
	}
	if s.probeWait != 64*time.Second {
		t.Errorf("probe wait after the dip %v, want 64 s (failed probes doubling it)", s.probeWait)
	}
	if resumed < 0 || resumed > 2*8*time.Second+time.Second {
		t.Errorf("video back %v after the link, want within 17 s", resumed)
	}
}
