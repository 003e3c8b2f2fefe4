package media

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// SteadyConfig sizes Steady.
type SteadyConfig struct {
	// Watchers is how many watchers join.
	Watchers int
	// Window is how long the steady state is measured, once every watcher
	// is live.
	Window time.Duration
	// JoinTimeout bounds the wait for every watcher to be live.
	JoinTimeout time.Duration
	// ServerPID is the server's process, whose CPU time and resident
	// memory are read from /proc; 0 skips them.
	ServerPID int
	// Parallel is how many watchers join at once; 0 means 20.
	Parallel int
	// OnWindow, if set, runs on a goroutine of its own as the window
	// starts (to profile the server, say); Steady waits for it to return.
	OnWindow func()
}

// SteadyResult is what Steady measured. CPU and memory are the server's.
type SteadyResult struct {
	Watchers int
	Relayed  int // watchers served by the relay
	// CPUPerWatcher is the server's CPU time per watcher per second of
	// video over the window, in ms.
	CPUPerWatcher float64
	// KBPerWatcher is the server's resident memory with the watchers less
	// that before them, per watcher, in KB; RSSMB the total with them.
	KBPerWatcher, RSSMB float64
	// LossPct is the video packets lost over the window, in % of those
	// expected, over every watcher.
	LossPct float64
	// FPSMin and FPSMedian are the watchers' frame rates over the window.
	FPSMin, FPSMedian float64
	// TTFFp50 and TTFFp95 are the watchers' times to first frame.
	TTFFp50, TTFFp95 time.Duration
	// WatchersCPU is the CPU this process (the watchers) used over the
	// window, in cores: near the machine's, the watchers are what falls
	// behind.
	WatchersCPU float64
	// Load is the machine's load averages (1, 5, 15 min) at the window's end.
	Load string
}

// Steady starts cfg.Watchers watchers of the pool's room, waits for each
// to be live, then measures over cfg.Window (see SteadyResult). The
// watchers are closed before it returns. It returns an error if a watcher
// fails to join or to be live within cfg.JoinTimeout.
func (p *Pool) Steady(ctx context.Context, cfg SteadyConfig) (SteadyResult, error) {
	res := SteadyResult{Watchers: cfg.Watchers}
	var rss0 int64
	if cfg.ServerPID > 0 {
		var err error
		if rss0, err = procRSS(cfg.ServerPID); err != nil {
			return res, err
		}
	}
	ws, err := p.join(ctx, cfg.Watchers, cfg.Parallel, cfg.JoinTimeout)
	defer closeAll(ws)
	if err != nil {
		return res, err
	}
	ttff := make([]time.Duration, len(ws))
	for i, w := range ws {
		c := w.Counters()
		ttff[i] = c.TTFF
		if c.Relayed {
			res.Relayed++
		}
	}
	res.TTFFp50, res.TTFFp95 = Quantile(ttff, 0.5), Quantile(ttff, 0.95)

	before := counters(ws)
	var cpu0 time.Duration
	if cfg.ServerPID > 0 {
		if cpu0, err = procCPU(cfg.ServerPID); err != nil {
			return res, err
		}
	}
	self0, _ := procCPU(os.Getpid())
	start := time.Now()
	if cfg.OnWindow != nil {
		hook := make(chan struct{})
		go func() { defer close(hook); cfg.OnWindow() }()
		defer func() { <-hook }()
	}
	select { // the measurement's window: no synchronisation waits on it
	case <-time.After(cfg.Window):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	secs := time.Since(start).Seconds()
	after := counters(ws)
	if self1, err := procCPU(os.Getpid()); err == nil {
		res.WatchersCPU = (self1 - self0).Seconds() / secs
	}
	if cfg.ServerPID > 0 {
		cpu1, err := procCPU(cfg.ServerPID)
		if err != nil {
			return res, err
		}
		rss1, err := procRSS(cfg.ServerPID)
		if err != nil {
			return res, err
		}
		res.CPUPerWatcher = float64((cpu1 - cpu0).Milliseconds()) / secs / float64(len(ws))
		res.KBPerWatcher = float64(rss1-rss0) / float64(len(ws))
		res.RSSMB = float64(rss1) / 1024
	}
	res.Load = LoadAverage()
	var expected, received int64
	fps := make([]float64, len(ws))
	for i := range ws {
		expected += after[i].Expected - before[i].Expected
		received += after[i].Received - before[i].Received
		fps[i] = float64(after[i].Frames-before[i].Frames) / secs
	}
	if expected > 0 {
		res.LossPct = 100 * float64(max(expected-received, 0)) / float64(expected)
	}
	slices.Sort(fps)
	res.FPSMin, res.FPSMedian = fps[0], fps[len(fps)/2]
	return res, nil
}

// JoinConfig sizes Join.
type JoinConfig struct {
	// Together is how many watchers join at once in each round.
	Together int
	// Joins is how many watchers join in all, at least: rounds of Together.
	Joins int
	// Spread is the pause before each round, which moves the rounds'
	// phases over the talker's group of pictures: round i waits
	// (i × 370 ms) mod Spread. 0 means 2 s.
	Spread time.Duration
	// Timeout bounds each watcher's wait for its first frame.
	Timeout time.Duration
}

// Join runs rounds of cfg.Together watchers joining at once, each closed
// at its first frame, and returns every time to first frame, or an error
// if a watcher saw none within cfg.Timeout.
func (p *Pool) Join(ctx context.Context, cfg JoinConfig) ([]time.Duration, error) {
	spread := cfg.Spread
	if spread <= 0 {
		spread = 2 * time.Second
	}
	var all []time.Duration
	for i := range (cfg.Joins + cfg.Together - 1) / cfg.Together {
		pause := time.Duration(i*370) * time.Millisecond % spread
		select { // spaces the rounds; not a synchronisation
		case <-time.After(pause):
		case <-ctx.Done():
			return all, ctx.Err()
		}
		ws, err := p.join(ctx, cfg.Together, cfg.Together, cfg.Timeout)
		for _, w := range ws {
			all = append(all, w.Counters().TTFF)
		}
		closeAll(ws)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// Sequence starts n watchers one after another, each once the one before
// is live, and returns each one's time to first frame and whether the
// relay served it; the watchers are closed before it returns.
func (p *Pool) Sequence(ctx context.Context, n int, timeout time.Duration) ([]Counters, error) {
	var ws []*Watcher
	defer func() { closeAll(ws) }()
	out := make([]Counters, 0, n)
	for range n {
		got, err := p.join(ctx, 1, 1, timeout)
		ws = append(ws, got...)
		if err != nil {
			return out, fmt.Errorf("watcher %d: %w", len(out)+1, err)
		}
		out = append(out, got[0].Counters())
	}
	return out, nil
}

// join starts n watchers, parallel at a time (0: 20), and waits for each
// to be live within timeout. It returns those it started, live or not.
func (p *Pool) join(ctx context.Context, n, parallel int, timeout time.Duration) ([]*Watcher, error) {
	if parallel <= 0 {
		parallel = 20
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ws := make([]*Watcher, 0, n)
	var mu sync.Mutex
	var errs []error
	for start := 0; start < n; start += parallel {
		var wg sync.WaitGroup
		for range min(parallel, n-start) {
			wg.Go(func() {
				w, err := p.Watch(context.WithoutCancel(ctx))
				if err == nil {
					mu.Lock()
					ws = append(ws, w)
					mu.Unlock()
					_, err = w.WaitLive(ctx)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	if len(errs) > 0 {
		return ws, fmt.Errorf("%d of %d watchers: %w", len(errs), n, errors.Join(errs[:min(len(errs), 3)]...))
	}
	return ws, nil
}

func counters(ws []*Watcher) []Counters {
	out := make([]Counters, len(ws))
	for i, w := range ws {
		out[i] = w.Counters()
	}
	return out
}

// closeAll closes watchers in parallel.
func closeAll(ws []*Watcher) {
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(w.Close)
	}
	wg.Wait()
}

// Quantile returns the q-quantile of ds (nearest rank), 0 for none.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
