package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/broadcast-service/broadcast/loadtest/media"
)

// mediaScenarios are the bench scenarios run with light Go watchers of a
// room already on air (see package loadtest/media).
var mediaScenarios = map[string]bool{"steady": true, "join": true, "sequence": true}

// mediaBench is the media scenarios' flags.
type mediaBench struct {
	room     *string
	steady   *time.Duration
	counts   *[]string
	together *[]string
	joins    *int
	marks    *[]string
	timeout  *time.Duration
	profile  *string
	heap     *string
	from     *string
}

func mediaFlags(f *flags) *mediaBench {
	return &mediaBench{
		room:     f.String("room", "bench", "steady, join, sequence: the room on air to watch"),
		steady:   typed(f, "steady", "BROADCAST_BENCH_STEADY", "10s", "steady: how long the watchers are measured once all are live", duration),
		counts:   typed(f, "counts", "BROADCAST_BENCH_COUNTS", "50,100,200,400", "steady: comma-separated watcher counts, one run each", list),
		together: typed(f, "together", "BROADCAST_BENCH_TOGETHER", "1,8", "join: comma-separated numbers of watchers joining at once", list),
		joins:    typed(f, "joins", "BROADCAST_BENCH_JOINS", "20", "join: watchers joining in all, for each of -together", atLeast(1)),
		marks:    typed(f, "marks", "BROADCAST_BENCH_MARKS", "11,50,200", "sequence: watchers (1-based, in order of joining) whose time to first frame is printed; the last is how many join", list),
		timeout:  typed(f, "media-timeout", "BROADCAST_BENCH_MEDIA_TIMEOUT", "120s", "steady, join, sequence: how long watchers have to see their first frame", duration),
		profile:  f.String("profile", "", "steady: a file to write the server's CPU profile over the window into (taken from -profile-from)"),
		heap:     f.String("heap-profile", "", "steady: a file to write the server's heap profile into as the window starts (taken from -profile-from)"),
		from:     f.String("profile-from", "", "steady: the server's metrics address serving -pprof (http://host:port)"),
	}
}

// run runs one media scenario against base with pid the server's process
// (0: no CPU or memory figures), printing a table to out.
func (m *mediaBench) run(ctx context.Context, scenario, base string, pid int, out io.Writer) error {
	pool, err := media.NewPool(media.Options{Server: base, Room: *m.room, Loopback: isLoopback(base)})
	if err != nil {
		return err
	}
	// Fixed widths rather than a tabwriter: rows print as they come.
	w := out
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 0, 64) }
	switch scenario {
	case "steady":
		fmt.Fprintf(w, "%8s %7s %16s %10s %9s %6s %7s %7s %11s %11s %13s  %s\n", "watchers", "relayed", "cpu-ms/watcher-s", "KB/watcher",
			"server-MB", "loss-%", "fps-min", "fps-p50", "ttff-p50-ms", "ttff-p95-ms", "watchers-cpu", "load")
		for _, c := range *m.counts {
			n, err := strconv.Atoi(c)
			if err != nil || n < 1 {
				return fmt.Errorf("-counts: %q", c)
			}
			cfg := media.SteadyConfig{Watchers: n, Window: *m.steady, JoinTimeout: *m.timeout, ServerPID: pid}
			var perr error
			if *m.profile != "" || *m.heap != "" {
				cfg.OnWindow = func() { perr = m.takeProfiles(ctx) }
			}
			r, err := pool.Steady(ctx, cfg)
			if err == nil {
				err = perr
			}
			if err != nil {
				return fmt.Errorf("steady %d: %w", n, err)
			}
			fmt.Fprintf(w, "%8d %7d %16.3f %10.0f %9.1f %6.2f %7.1f %7.1f %11s %11s %13.2f  %s\n", r.Watchers, r.Relayed, r.CPUPerWatcher, r.KBPerWatcher, r.RSSMB,
				r.LossPct, r.FPSMin, r.FPSMedian, ms(r.TTFFp50), ms(r.TTFFp95), r.WatchersCPU, r.Load)
		}
	case "join":
		fmt.Fprintf(w, "%8s %5s %11s %11s %11s  %s\n", "together", "joins", "ttff-p50-ms", "ttff-p95-ms", "ttff-max-ms", "load")
		for _, c := range *m.together {
			k, err := strconv.Atoi(c)
			if err != nil || k < 1 {
				return fmt.Errorf("-together: %q", c)
			}
			ttff, err := pool.Join(ctx, media.JoinConfig{Together: k, Joins: *m.joins, Timeout: *m.timeout})
			if err != nil {
				return fmt.Errorf("join %d: %w", k, err)
			}
			fmt.Fprintf(w, "%8d %5d %11s %11s %11s  %s\n", k, len(ttff), ms(media.Quantile(ttff, 0.5)), ms(media.Quantile(ttff, 0.95)), ms(media.Quantile(ttff, 1)), media.LoadAverage())
		}
	case "sequence":
		marks := make([]int, 0, len(*m.marks))
		for _, c := range *m.marks {
			k, err := strconv.Atoi(c)
			if err != nil || k < 1 {
				return fmt.Errorf("-marks: %q", c)
			}
			marks = append(marks, k)
		}
		got, err := pool.Sequence(ctx, marks[len(marks)-1], *m.timeout)
		if err != nil {
			return fmt.Errorf("sequence: %w", err)
		}
		fmt.Fprintf(w, "%7s %6s %7s\n", "watcher", "via", "ttff-ms")
		for _, k := range marks {
			via := "direct"
			if got[k-1].Relayed {
				via = "relay"
			}
			fmt.Fprintf(w, "%7d %6s %7s\n", k, via, ms(got[k-1].TTFF))
		}
		all := make([]time.Duration, len(got))
		for i, c := range got {
			all[i] = c.TTFF
		}
		fmt.Fprintf(w, "all %d: p50 %s, p95 %s, max %s ms; load %s\n", len(all), ms(media.Quantile(all, 0.5)), ms(media.Quantile(all, 0.95)), ms(media.Quantile(all, 1)), media.LoadAverage())
	}
	return nil
}

// isLoopback reports whether base's host is a loopback address (or
// localhost): the watchers then gather loopback candidates only.
func isLoopback(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	if h := u.Hostname(); strings.EqualFold(h, "localhost") {
		return true
	} else if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback()
	}
	return false
}

// takeProfiles writes the server's heap profile into -heap-profile, and
// its CPU profile over most of the steady window into -profile.
func (m *mediaBench) takeProfiles(ctx context.Context) error {
	if *m.heap != "" {
		if err := m.fetch(ctx, "heap", *m.heap); err != nil {
			return err
		}
	}
	if *m.profile != "" {
		return m.fetch(ctx, fmt.Sprintf("profile?seconds=%d", max(int(m.steady.Seconds())-1, 1)), *m.profile)
	}
	return nil
}

// fetch writes the server's /debug/pprof/<what> into file.
func (m *mediaBench) fetch(ctx context.Context, what, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(*m.from, "/")+"/debug/pprof/"+what, nil)
	if err != nil {
		return fmt.Errorf("-profile-from: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s (is the server run with -pprof?)", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("profile: %w", err)
	}
	return f.Close()
}
