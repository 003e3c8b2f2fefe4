package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/broadcast-service/broadcast/loadtest"
)

// benchCommand runs the load scenarios against -url (one server, or nodes
// sharing rooms) and, with -compare, alternately against a second one, and
// prints the medians and ratios.
func benchCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("broadcast bench", getenv, stderr)
	url := f.String("url", "http://localhost:8080", "server to load; comma-separated nodes sharing rooms (-redis) get each room spread over them")
	compare := f.String("compare", "", "a second server (e.g. the classic Node signalingServer.js) to load alternately")
	pid := f.Int("pid", 0, "-url's server process, for memory per idle socket")
	comparePID := f.Int("compare-pid", 0, "-compare's server process")
	scenarios := f.String("scenarios", "idle,fanout,handshake,churn", "comma-separated scenarios (idle first: memory is measured best on fresh servers); steady, join and sequence watch -room's media with light Go watchers")
	rounds := f.Int("rounds", 3, "rounds per server; medians are printed")
	rooms := f.Int("rooms", 20, "rooms")
	watchers := f.Int("watchers", 9, "watchers per room (each room also has a talker)")
	messages := f.Int("messages", 5000, "messages each room's talker broadcasts (fanout)")
	size := f.Int("bytes", 1000, "padding of each fanout message, in bytes")
	window := f.Int("window", 64, "fanout messages in flight per room")
	idle := f.Int("idle", 2000, "idle sockets")
	churn := f.Int("churn", 1000, "sockets that connect, enter and leave")
	mb := mediaFlags(f)
	if err := f.parseArgs(args); err != nil {
		return err
	}
	run := map[string]func(context.Context, loadtest.Config) (loadtest.Result, error){
		"fanout": loadtest.Fanout, "handshake": loadtest.Handshake, "idle": loadtest.Idle, "churn": loadtest.Churn,
	}
	targets := []struct {
		name, url string
		pid       int
	}{{"url", *url, *pid}}
	if *compare != "" {
		targets = append(targets, struct {
			name, url string
			pid       int
		}{"compare", *compare, *comparePID})
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	header := false
	for _, name := range strings.Split(*scenarios, ",") {
		if name = strings.TrimSpace(name); mediaScenarios[name] {
			if err := tw.Flush(); err != nil {
				return err
			}
			if err := mb.run(ctx, name, *url, *pid, stdout); err != nil {
				return fmt.Errorf("%s against %s: %w", name, *url, err)
			}
			continue
		}
		scenario := run[name]
		if scenario == nil {
			return fmt.Errorf("-scenarios: unknown %q", name)
		}
		if !header {
			header = true
			fmt.Fprintln(tw, "scenario\tserver\tops\tper second\tp50\tp99\tlost\tduplicated\tmisrouted\tKB/socket\t")
		}
		results := make([][]loadtest.Result, len(targets))
		for range *rounds {
			for i, t := range targets {
				cfg := loadtest.Config{URL: t.url, ServerPID: t.pid, Rooms: *rooms, Watchers: *watchers,
					Messages: *messages, Bytes: *size, Window: *window, Idle: *idle, Churn: *churn}
				if urls, _ := list(t.url); len(urls) > 1 {
					cfg.URLs = urls
				}
				res, err := scenario(ctx, cfg)
				if err != nil {
					return fmt.Errorf("%s against %s: %w", name, t.url, err)
				}
				results[i] = append(results[i], res)
			}
		}
		meds := make([]loadtest.Result, len(targets))
		for i, t := range targets {
			meds[i] = median(results[i])
			m := meds[i]
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%v\t%v\t%d\t%d\t%d\t%.1f\t\n", m.Scenario, t.name, m.Ops, m.PerSecond,
				m.P50.Round(10*time.Microsecond), m.P99.Round(10*time.Microsecond), m.Lost, m.Duplicated, m.Misrouted, m.KBPerConn)
		}
		if len(meds) == 2 && meds[1].PerSecond > 0 && meds[1].P99 > 0 {
			fmt.Fprintf(tw, "%s\turl/compare\t\t%.2fx\t%.2fx\t%.2fx\t\t\t\t%s\t\n", meds[0].Scenario, meds[0].PerSecond/meds[1].PerSecond,
				float64(meds[0].P50)/float64(meds[1].P50), float64(meds[0].P99)/float64(meds[1].P99), ratio(meds[0].KBPerConn, meds[1].KBPerConn))
		}
	}
	return tw.Flush()
}

func ratio(a, b float64) string {
	if b <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// median takes the median of each rate and latency over rounds, the first
// round's memory per socket, and the sum of the error counts.
func median(rs []loadtest.Result) loadtest.Result {
	pick := func(f func(loadtest.Result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	m := rs[0]
	m.PerSecond = pick(func(r loadtest.Result) float64 { return r.PerSecond })
	m.P50 = time.Duration(pick(func(r loadtest.Result) float64 { return float64(r.P50) }))
	m.P99 = time.Duration(pick(func(r loadtest.Result) float64 { return float64(r.P99) }))
	m.KBPerConn = rs[0].KBPerConn // the first round's, on the freshest server
	m.Lost, m.Duplicated, m.Misrouted = 0, 0, 0
	for _, r := range rs {
		m.Lost += r.Lost
		m.Duplicated += r.Duplicated
		m.Misrouted += r.Misrouted
	}
	return m
}
