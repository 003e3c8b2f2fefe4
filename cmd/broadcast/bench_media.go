package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
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
}

func mediaFlags(f *flags) *mediaBench {
	return &mediaBench{
		room:     f.String("room", "bench", "steady, join, sequence: the room on air to watch"),
		steady:   typed(f, "steady", "", "10s", "steady: how long the watchers are measured once all are live", duration),
		counts:   typed(f, "counts", "", "50,100,200,400", "steady: comma-separated watcher counts, one run each", list),
		together: typed(f, "together", "", "1,8", "join: comma-separated numbers of watchers joining at once", list),
		joins:    typed(f, "joins", "", "20", "join: watchers joining in all, for each of -together", atLeast(1)),
		marks:    typed(f, "marks", "", "11,50,200", "sequence: watchers (1-based, in order of joining) whose time to first frame is printed; the last is how many join", list),
		timeout:  typed(f, "media-timeout", "", "120s", "steady, join, sequence: how long watchers have to see their first frame", duration),
	}
}

// run runs one media scenario against base with pid the server's process
// (0: no CPU or memory figures), printing a table to out.
func (m *mediaBench) run(ctx context.Context, scenario, base string, pid int, out io.Writer) error {
	pool, err := media.NewPool(media.Options{Server: base, Room: *m.room, Loopback: isLoopback(base)})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	defer tw.Flush()
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 0, 64) }
	switch scenario {
	case "steady":
		fmt.Fprintln(tw, "watchers\trelayed\tcpu-ms/watcher-s\tKB/watcher\tserver-MB\tloss-%\tfps-min\tfps-p50\tttff-p50-ms\tttff-p95-ms\tload\t")
		for _, c := range *m.counts {
			n, err := strconv.Atoi(c)
			if err != nil || n < 1 {
				return fmt.Errorf("-counts: %q", c)
			}
			r, err := pool.Steady(ctx, media.SteadyConfig{Watchers: n, Window: *m.steady, JoinTimeout: *m.timeout, ServerPID: pid})
			if err != nil {
				return fmt.Errorf("steady %d: %w", n, err)
			}
			fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.0f\t%.1f\t%.2f\t%.1f\t%.1f\t%s\t%s\t%s\t\n", r.Watchers, r.Relayed, r.CPUPerWatcher, r.KBPerWatcher, r.RSSMB,
				r.LossPct, r.FPSMin, r.FPSMedian, ms(r.TTFFp50), ms(r.TTFFp95), r.Load)
			_ = tw.Flush()
		}
	case "join":
		fmt.Fprintln(tw, "together\tjoins\tttff-p50-ms\tttff-p95-ms\tttff-max-ms\tload\t")
		for _, c := range *m.together {
			k, err := strconv.Atoi(c)
			if err != nil || k < 1 {
				return fmt.Errorf("-together: %q", c)
			}
			ttff, err := pool.Join(ctx, media.JoinConfig{Together: k, Joins: *m.joins, Timeout: *m.timeout})
			if err != nil {
				return fmt.Errorf("join %d: %w", k, err)
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t\n", k, len(ttff), ms(media.Quantile(ttff, 0.5)), ms(media.Quantile(ttff, 0.95)), ms(media.Quantile(ttff, 1)), media.LoadAverage())
			_ = tw.Flush()
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
		fmt.Fprintln(tw, "watcher\tvia\tttff-ms\t")
		for _, k := range marks {
			via := "direct"
			if got[k-1].Relayed {
				via = "relay"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t\n", k, via, ms(got[k-1].TTFF))
		}
		all := make([]time.Duration, len(got))
		for i, c := range got {
			all[i] = c.TTFF
		}
		fmt.Fprintf(tw, "all %d: p50 %s, p95 %s, max %s ms; load %s\t\t\t\n", len(all), ms(media.Quantile(all, 0.5)), ms(media.Quantile(all, 0.95)), ms(media.Quantile(all, 1)), media.LoadAverage())
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
