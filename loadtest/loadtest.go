package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// Config sizes the scenarios.
type Config struct {
	// URL is the server's base URL.
	URL string
	// URLs, if set, are the base URLs of nodes sharing rooms (through
	// Redis); they replace URL, and each room's sockets are spread over
	// them in turn.
	URLs []string
	// Rooms and Watchers: each room has a talker and this many watchers.
	Rooms, Watchers int
	// Messages is how many messages each room's talker broadcasts (fan-out).
	Messages int
	// Bytes is the size of each fan-out message's padding.
	Bytes int
	// Window bounds the fan-out messages in flight per room.
	Window int
	// Idle is how many idle sockets to open (10 a room).
	Idle int
	// ServerPID, if set, is the server's process, whose memory per idle
	// socket is measured from /proc.
	ServerPID int
	// Churn is how many sockets connect, enter and leave.
	Churn int
	// Quiet is how long a reader waits for more before counting the rest
	// lost; zero means 5 s.
	Quiet time.Duration
}

// Result is one scenario's outcome.
type Result struct {
	Scenario   string
	Ops        int64   // messages delivered, handshakes or connections
	PerSecond  float64 // Ops per second
	P50, P99   time.Duration
	Lost       int64   // expected but never received
	Duplicated int64   // received more than once
	Misrouted  int64   // received by a socket that should not have
	KBPerConn  float64 // server memory per idle socket (Idle, with ServerPID)
}

// url is the base URL of the i-th socket of a spread.
func (c *Config) url(i int) string {
	if len(c.URLs) == 0 {
		return c.URL
	}
	return c.URLs[i%len(c.URLs)]
}

func (c *Config) quiet() time.Duration {
	if c.Quiet <= 0 {
		return 5 * time.Second
	}
	return c.Quiet
}

// room is a talker and its watchers, all entered and heard of.
type room struct {
	name     string
	talker   *conn
	watchers []*conn
	// entered: the talker was answered `entered` before its talk_ready
	// was known handled.
	entered bool
}

func (r *room) close() {
	r.talker.close()
	for _, w := range r.watchers {
		w.close()
	}
}

// setupRoom connects a talker and watchers; the talker claims the room
// with talk_ready, and a ping's pong tells it the server has handled that
// (a classic client is the talker only from then on, and until then its
// room's departures are told to nobody). The watchers ask with
// talk_request until the talker has heard each, then it answers
// talk_ready {"go":1}, which every watcher waits for.
// The i-th room's talker connects to cfg.url(i), its watchers to the next
// ones.
func setupRoom(ctx context.Context, cfg Config, i int, name string) (*room, error) {
	watchers, quiet := cfg.Watchers, cfg.quiet()
	r := &room{name: name}
	var err error
	if r.talker, err = dial(ctx, cfg.url(i)); err != nil {
		return nil, err
	}
	if err = r.talker.enter(name); err == nil {
		err = r.talker.message(typed(protocol.TypeTalkReady))
	}
	if err == nil {
		r.entered, err = r.talker.handled(quiet)
	}
	for j := 0; j < watchers && err == nil; j++ {
		var w *conn
		if w, err = dial(ctx, cfg.url(i+1+j)); err == nil {
			r.watchers = append(r.watchers, w)
			err = w.enter(name)
		}
	}
	if err != nil {
		r.close()
		return nil, err
	}
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for _, w := range r.watchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				t := time.NewTicker(50 * time.Millisecond)
				defer t.Stop()
				for {
					_ = w.message(typed(protocol.TypeTalkRequest))
					select {
					case <-stop:
						return
					case <-t.C:
					}
				}
			}()
			_ = w.ws.SetReadDeadline(time.Now().Add(quiet))
			_ = w.read(func(p []byte) bool { return intField(p, "go") != 1 })
			_ = w.ws.SetReadDeadline(time.Time{})
		}()
	}
	heard := map[string]bool{}
	if watchers > 0 { // a read that times out breaks the socket: read only for something due
		_ = r.talker.ws.SetReadDeadline(time.Now().Add(quiet))
		_ = r.talker.read(func(p []byte) bool {
			if bytes.Contains(p, quotedTalkRequest) {
				heard[stringField(p, "from")] = true
			}
			return len(heard) < watchers
		})
		_ = r.talker.ws.SetReadDeadline(time.Time{})
	}
	close(ready)
	if len(heard) < watchers {
		r.close()
		wg.Wait()
		return nil, fmt.Errorf("room %s: the talker heard %d of %d watchers", name, len(heard), watchers)
	}
	err = r.talker.message(typed(protocol.TypeTalkReady) + `,"go":1`)
	wg.Wait()
	if err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func setupRooms(ctx context.Context, cfg Config, prefix string) ([]*room, error) {
	rooms := make([]*room, 0, cfg.Rooms)
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range cfg.Rooms {
		r, err := setupRoom(ctx, cfg, i, fmt.Sprintf("%s-%s-%d", prefix, stamp, i))
		if err != nil {
			for _, r := range rooms {
				r.close()
			}
			return nil, err
		}
		rooms = append(rooms, r)
	}
	return rooms, nil
}

// latencies gathers samples from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d ...time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

func (l *latencies) fill(r *Result) {
	slices.Sort(l.d)
	if n := len(l.d); n > 0 {
		r.P50, r.P99 = l.d[n/2], l.d[n*99/100]
	}
}

// Fanout: in each room the talker broadcasts Messages messages of Bytes
// padding, each naming its room and sequence number, with at most Window in
// flight; every watcher must get each exactly once. Ops are deliveries.
func Fanout(ctx context.Context, cfg Config) (Result, error) {
	res := Result{Scenario: "fanout"}
	rooms, err := setupRooms(ctx, cfg, "fanout")
	if err != nil {
		return res, err
	}
	defer func() {
		for _, r := range rooms {
			r.close()
		}
	}()
	pad := strconv.Quote(strings.Repeat("x", cfg.Bytes))
	var lat latencies
	var lost, dup, misrouted, delivered atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, r := range rooms {
		got := make([]atomic.Int64, len(r.watchers))
		roomField := []byte(`"room":` + strconv.Quote(r.name) + `,`)
		for i, w := range r.watchers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seen := make([]bool, cfg.Messages)
				var mine []time.Duration
				_ = w.read(func(p []byte) bool {
					_ = w.ws.SetReadDeadline(time.Now().Add(cfg.quiet()))
					n := intField(p, "n")
					if n < 0 || !bytes.Contains(p, quotedCandidate) {
						return true
					}
					if !bytes.Contains(p, roomField) || n >= int64(len(seen)) {
						misrouted.Add(1)
						return true
					}
					if seen[n] {
						dup.Add(1)
						return true
					}
					seen[n] = true
					mine = append(mine, time.Duration(time.Now().UnixNano()-intField(p, "t")))
					return got[i].Add(1) < int64(cfg.Messages)
				})
				lost.Add(int64(cfg.Messages) - got[i].Load())
				delivered.Add(got[i].Load())
				lat.add(mine...)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range cfg.Messages {
				for {
					slowest := int64(cfg.Messages)
					for i := range got {
						slowest = min(slowest, got[i].Load())
					}
					if int64(n)-slowest < int64(cfg.Window) || ctx.Err() != nil {
						break
					}
					time.Sleep(50 * time.Microsecond) // flow control
				}
				msg := fmt.Sprintf(`"type":%q,"room":%q,"n":%d,"t":%d,"pad":%s`, protocol.TypeCandidate, r.name, n, time.Now().UnixNano(), pad)
				if r.talker.message(msg) != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	res.Ops, res.Lost, res.Duplicated, res.Misrouted = delivered.Load(), lost.Load(), dup.Load(), misrouted.Load()
	res.PerSecond = float64(res.Ops) / elapsed.Seconds()
	lat.fill(&res)
	return res, nil
}

// Handshake: every watcher of every room at once sends talk_request; the
// talker answers each with an offer (sendto), the watcher with an answer
// and 4 candidates, the talker with 4 candidates. Ops are completed
// handshakes; the latency is from talk_request to the last candidate, and
// PerSecond counts the 11 messages of each.
func Handshake(ctx context.Context, cfg Config) (Result, error) {
	res := Result{Scenario: "handshake"}
	rooms, err := setupRooms(ctx, cfg, "handshake")
	if err != nil {
		return res, err
	}
	defer func() {
		for _, r := range rooms {
			r.close()
		}
	}()
	sdp := strconv.Quote(strings.Repeat("a=x\r\n", 600)) // ~3 KB, an SDP's size
	cand := `"candidate":"candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0`
	var lat latencies
	var done, misrouted, lost atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, r := range rooms {
		// The talker: one offer per watcher, candidates per answer. A
		// talk_request left over from setupRoom's barrier may come twice.
		wg.Add(1)
		go func() {
			defer wg.Done()
			offered, answered := map[string]bool{}, map[string]bool{}
			_ = r.talker.read(func(p []byte) bool {
				_ = r.talker.ws.SetReadDeadline(time.Now().Add(cfg.quiet()))
				from := stringField(p, "from")
				switch {
				case bytes.Contains(p, quotedTalkRequest) && !offered[from]:
					offered[from] = true
					_ = r.talker.message(fmt.Sprintf(`"type":%q,"sendto":%q,"sdp":%s`, protocol.TypeOffer, from, sdp))
				case bytes.Contains(p, quotedAnswer) && !answered[from]:
					answered[from] = true
					for range 4 {
						_ = r.talker.message(fmt.Sprintf(`"type":%q,"sendto":%q,%s`, protocol.TypeCandidate, from, cand))
					}
				}
				return len(answered) < len(r.watchers)
			})
		}()
		for _, w := range r.watchers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				candidates := 0
				offered := false
				_ = w.message(typed(protocol.TypeTalkRequest))
				_ = w.read(func(p []byte) bool {
					_ = w.ws.SetReadDeadline(time.Now().Add(cfg.quiet()))
					if to := stringField(p, "sendto"); to != "" && to != w.id {
						misrouted.Add(1)
						return true
					}
					switch {
					case bytes.Contains(p, quotedOffer) && !offered:
						offered = true
						_ = w.message(fmt.Sprintf(`"type":%q,"sendto":%q,"sdp":%s`, protocol.TypeAnswer, r.talker.id, sdp))
						for range 4 {
							_ = w.message(fmt.Sprintf(`"type":%q,"sendto":%q,%s`, protocol.TypeCandidate, r.talker.id, cand))
						}
					case bytes.Contains(p, quotedCandidate) && stringField(p, "sendto") == w.id:
						candidates++
					}
					return candidates < 4
				})
				if candidates == 4 {
					done.Add(1)
					lat.add(time.Since(t0))
				} else {
					lost.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	res.Ops, res.Misrouted, res.Lost = done.Load(), misrouted.Load(), lost.Load()
	res.PerSecond = float64(res.Ops*11) / time.Since(start).Seconds()
	lat.fill(&res)
	return res, nil
}

// Idle opens Idle sockets, 10 a room, and with ServerPID reports how much
// the server's resident memory grew per socket. Ops are sockets opened;
// the latency is each socket's connect time.
func Idle(ctx context.Context, cfg Config) (Result, error) {
	res := Result{Scenario: "idle"}
	before, _ := rssKB(cfg.ServerPID)
	var lat latencies
	conns := make([]*conn, 0, cfg.Idle)
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	start := time.Now()
	for i := range cfg.Idle {
		t0 := time.Now()
		c, err := dial(ctx, cfg.url(i))
		if err != nil {
			return res, err
		}
		lat.add(time.Since(t0))
		conns = append(conns, c)
		if err := c.enter(fmt.Sprintf("idle-%s-%d", stamp, i/10)); err != nil {
			return res, err
		}
	}
	res.Ops = int64(len(conns))
	res.PerSecond = float64(res.Ops) / time.Since(start).Seconds()
	lat.fill(&res)
	// Every enter handled: a ping's pong comes after it on each socket.
	for _, c := range conns {
		_ = c.write([]byte("2"))
		_ = c.ws.SetReadDeadline(time.Now().Add(cfg.quiet()))
		_ = c.read(func(p []byte) bool { return string(p) != "3" })
	}
	if after, err := rssKB(cfg.ServerPID); err == nil && cfg.ServerPID > 0 {
		res.KBPerConn = float64(after-before) / float64(res.Ops)
	}
	return res, nil
}

// Churn: Churn sockets each connect, enter a room and leave at once; each
// room's talker must hear every one leave. Ops are sockets; the latency is
// the connect time; Lost counts departures never announced. A socket whose
// enter is refused (ErrRefused) or unanswered within Quiet stops its
// worker and is returned as the error; it is not counted.
func Churn(ctx context.Context, cfg Config) (Result, error) {
	res := Result{Scenario: "churn"}
	cfg.Watchers = 0
	rooms, err := setupRooms(ctx, cfg, "churn")
	if err != nil {
		return res, err
	}
	defer func() {
		for _, r := range rooms {
			r.close()
		}
	}()
	entered := repliesEntered(rooms[0])
	var heard atomic.Int64
	var wg sync.WaitGroup
	for i, r := range rooms {
		// Churner k goes to room k mod rooms: this many come here.
		due := int64(cfg.Churn / len(rooms))
		if i < cfg.Churn%len(rooms) {
			due++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if due > 0 {
				hearDepartures(r.talker, due, cfg.quiet(), &heard)
			}
		}()
	}
	var lat latencies
	start := time.Now()
	var churned atomic.Int64
	var workers sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := w; i < cfg.Churn; i += 4 {
				t0 := time.Now()
				c, err := dial(ctx, cfg.url(i+1)) // not its talker's node, in a spread
				if err != nil {
					errs <- err
					return
				}
				lat.add(time.Since(t0))
				err = c.enter(rooms[i%len(rooms)].name)
				if err == nil {
					err = c.awaitEnter(entered, cfg.quiet())
				}
				c.close()
				if err != nil { // refused or unanswered: not counted either way
					errs <- fmt.Errorf("churner %d: %w", i, err)
					return
				}
				churned.Add(1)
			}
		}()
	}
	workers.Wait()
	res.PerSecond = float64(churned.Load()) / time.Since(start).Seconds()
	wg.Wait() // each talker reads until it heard all its churners, or Quiet passed
	res.Ops = churned.Load()
	res.Lost = res.Ops - heard.Load()
	lat.fill(&res)
	select {
	case err := <-errs:
		return res, err
	default:
	}
	return res, nil
}

// hearDepartures reads c, a room's talker, until it has heard `user
// disconnected` due times or nothing came for quiet, adding each to heard.
func hearDepartures(c *conn, due int64, quiet time.Duration, heard *atomic.Int64) {
	mine := int64(0)
	_ = c.ws.SetReadDeadline(time.Now().Add(quiet)) // for the first, too
	_ = c.read(func(p []byte) bool {
		_ = c.ws.SetReadDeadline(time.Now().Add(quiet))
		if bytes.Contains(p, quotedUserDisconnected) {
			mine++
			heard.Add(1)
		}
		return mine < due
	})
}

// repliesEntered reports whether the server answers `enter` with
// `entered`, as this service does (and the classic server does not), from
// what r's talker, which entered a while ago, has received by the pong of
// a ping. A churner then waits for that reply rather than for a ping's
// pong, which the transport may send before the enter is done.
func repliesEntered(r *room) bool {
	seen := r.entered
	_ = r.talker.write([]byte("2"))
	_ = r.talker.read(func(p []byte) bool {
		seen = seen || bytes.HasPrefix(p, enteredPrefix)
		return string(p) != "3"
	})
	return seen
}

// rssKB reads a process's resident memory, in KiB.
func rssKB(pid int) (int64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, errors.New("no VmRSS")
}
