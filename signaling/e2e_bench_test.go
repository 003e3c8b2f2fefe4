package signaling_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/signaling"
)

// loadLimits lift the per-socket rate and the per-address socket count, which
// a load test from one address on loopback would hit at once.
var loadLimits = signaling.Limits{MessagesPerSecond: 1e9, MessageBurst: 1e9, AddrSockets: 1e6, Sockets: 1e6}

// benchConn is a lean socket.io client for load: it reads frames raw and
// pings, so that the load driver costs as little CPU as it can.
type benchConn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	done chan struct{}
}

func benchDial(b *testing.B, base, room string) *benchConn {
	b.Helper()
	u := strings.Replace(base, "http", "ws", 1) + "/socket.io/?EIO=3&transport=websocket"
	ws, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		b.Fatalf("dial %s: %v", u, err)
	}
	_ = resp.Body.Close()
	for range 2 { // open and connect packets
		if _, _, err := ws.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
	c := &benchConn{ws: ws, done: make(chan struct{})}
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-c.done:
				return
			case <-t.C:
				_ = c.write([]byte("2"))
			}
		}
	}()
	if err := c.write(fmt.Appendf(nil, `42["enter",%q]`, room)); err != nil {
		b.Fatal(err)
	}
	return c
}

func (c *benchConn) write(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, p)
}

func (c *benchConn) close() {
	close(c.done)
	_ = c.ws.Close()
}

// field returns the integer after `"name":` in p, or -1.
func field(p []byte, name string) int64 {
	i := bytes.Index(p, []byte(`"`+name+`":`))
	if i < 0 {
		return -1
	}
	p = p[i+len(name)+3:]
	j := bytes.IndexAny(p, ",}")
	if j < 0 {
		return -1
	}
	n, err := strconv.ParseInt(string(p[:j]), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// BenchmarkWebSocketFanout drives a server over real WebSockets: 20 rooms
// of 10 sockets; in each room one socket broadcasts 1 KB messages and the 9
// others receive them, with at most 64 messages in flight per room. An op is
// one message sent (9 deliveries). It reports deliveries/s and the p50/p99
// latency from send to receipt. BENCH_URL points it at another server (for
// example the classic Node signalingServer.js); by default it starts this
// package's server in process.
func BenchmarkWebSocketFanout(b *testing.B) {
	const rooms, members, window = 20, 10, 64
	base := os.Getenv("BENCH_URL")
	if base == "" {
		base = startServer(b, signaling.Options{Limits: loadLimits}, signaling.ServerOptions{}).URL
	}
	pad := strconv.Quote(strings.Repeat("x", 1000))
	var lat []time.Duration
	var latMu sync.Mutex
	var lost atomic.Int64

	type roomState struct {
		sender *benchConn
		recv   []*benchConn
		got    []atomic.Int64 // messages received, per receiver
	}
	rs := make([]*roomState, rooms)
	for r := range rooms {
		name := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), r)
		st := &roomState{sender: benchDial(b, base, name), got: make([]atomic.Int64, members-1)}
		for range members - 1 {
			st.recv = append(st.recv, benchDial(b, base, name))
		}
		rs[r] = st
	}
	defer func() {
		for _, st := range rs {
			st.sender.close()
			for _, c := range st.recv {
				c.close()
			}
		}
	}()
	// Join barrier, in the classic protocol both servers speak: the sender
	// claims the room with talk_ready; receivers send talk_request until the
	// sender, having heard all of them, says talk_ready with "go".
	var ready sync.WaitGroup
	for _, st := range rs {
		if err := st.sender.write([]byte(`42["message",{"type":"talk_ready"}]`)); err != nil {
			b.Fatal(err)
		}
		for _, c := range st.recv {
			ready.Add(1)
			go func() {
				defer ready.Done()
				stop := make(chan struct{})
				go func() {
					for {
						_ = c.write([]byte(`42["message",{"type":"talk_request"}]`))
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Millisecond):
						}
					}
				}()
				defer close(stop)
				for {
					_, p, err := c.ws.ReadMessage()
					if err != nil || bytes.Contains(p, []byte(`"go":1`)) {
						return
					}
				}
			}()
		}
		ready.Add(1)
		go func() {
			defer ready.Done()
			heard := map[string]bool{}
			for len(heard) < members-1 {
				_, p, err := st.sender.ws.ReadMessage()
				if err != nil {
					return
				}
				if i := bytes.Index(p, []byte(`"from":"`)); i >= 0 && bytes.Contains(p, []byte(`"talk_request"`)) {
					id := p[i+8:]
					heard[string(id[:bytes.IndexByte(id, '"')])] = true
				}
			}
			_ = st.sender.write([]byte(`42["message",{"type":"talk_ready","go":1}]`))
		}()
	}
	ready.Wait()

	per := b.N / rooms
	var run sync.WaitGroup
	b.ResetTimer()
	for _, st := range rs {
		for i, c := range st.recv {
			run.Add(1)
			go func() {
				defer run.Done()
				var mine []time.Duration
				for st.got[i].Load() < int64(per) {
					_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
					_, p, err := c.ws.ReadMessage()
					if err != nil {
						lost.Add(int64(per) - st.got[i].Load())
						break
					}
					if n := field(p, "n"); n >= 0 {
						mine = append(mine, time.Duration(time.Now().UnixNano()-field(p, "t")))
						st.got[i].Add(1)
					}
				}
				latMu.Lock()
				lat = append(lat, mine...)
				latMu.Unlock()
			}()
		}
		run.Add(1)
		go func() {
			defer run.Done()
			for n := range per {
				for {
					slowest := int64(per)
					for i := range st.got {
						slowest = min(slowest, st.got[i].Load())
					}
					if int64(n)-slowest < window {
						break
					}
					time.Sleep(20 * time.Microsecond) // flow control, not synchronisation
				}
				msg := fmt.Appendf(nil, `42["message",{"type":"candidate","n":%d,"t":%d,"pad":%s}]`, n, time.Now().UnixNano(), pad)
				if err := st.sender.write(msg); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	run.Wait()
	b.StopTimer()
	if l := lost.Load(); l > 0 {
		b.Errorf("%d messages lost", l)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "deliveries/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkIdleConnection opens b.N sockets, 10 to a room, to the server at
// BENCH_URL and reports how much that server's resident memory grew per
// socket (BENCH_PID names its process; bench/compare.sh sets both). Without
// them there is no separate server process to weigh, so it is skipped.
func BenchmarkIdleConnection(b *testing.B) {
	base, pid := os.Getenv("BENCH_URL"), os.Getenv("BENCH_PID")
	if base == "" || pid == "" {
		b.Skip("needs BENCH_URL and BENCH_PID of a server process: run bench/compare.sh")
	}
	rss := func() int64 {
		data, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb
			}
		}
		b.Fatal("no VmRSS")
		return 0
	}
	before := rss()
	conns := make([]*benchConn, 0, b.N)
	prefix := fmt.Sprintf("idle-%d", time.Now().UnixNano())
	for i := range b.N {
		conns = append(conns, benchDial(b, base, fmt.Sprintf("%s-%d", prefix, i/10)))
	}
	// Each socket's own reply proves the server has handled its enter.
	for _, c := range conns {
		if err := c.write([]byte(`42["message",{"type":"bye","sendto":"nobody"}]`)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ws.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rss()-before)/float64(b.N), "server-KB/conn")
	for _, c := range conns {
		c.close()
	}
}
