package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/redistest"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// nodeEnv makes the test binary run main, as a node process.
const nodeEnv = "BROADCAST_TEST_NODE"

// nodeTTL is the nodes' liveness TTL: a killed node's sockets are
// announced gone within 1.2× it. Shorter than the default to keep the test
// short; long enough that a node starved of CPU by a loaded machine is not
// taken for dead.
const nodeTTL = 2 * time.Second

// within bounds each wait for something that must happen.
const within = 15 * time.Second

// node is a `broadcast serve -redis` process.
type node struct {
	t       *testing.T
	url     string
	metrics string // the /metrics URL
	cmd     *exec.Cmd
	logs    chan string
	done    chan struct{}
}

func startNode(t *testing.T, redisURL string) *node {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-redis", redisURL,
		"-redis-node-ttl", nodeTTL.String(), "-max-addr-sockets", "1000")
	cmd.Env = append(os.Environ(), nodeEnv+"=1")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w
	err = cmd.Start()
	_ = w.Close()
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, cmd: cmd, logs: make(chan string, 4096), done: make(chan struct{})}
	go func() {
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case n.logs <- sc.Text():
			default: // nobody is reading this far back; never stall the node
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(within):
			_ = cmd.Process.Kill()
			<-n.done
		}
	})
	line := n.waitLog("msg=listening")
	_, after, _ := strings.Cut(line, "url=")
	n.url, _, _ = strings.Cut(after, " ")
	_, after, _ = strings.Cut(line, " metrics=")
	n.metrics, _, _ = strings.Cut(after, " ")
	if !strings.Contains(line, "redis=true") || n.url == "" || !strings.HasPrefix(n.metrics, "http://") {
		t.Fatalf("node log: %s", line)
	}
	return n
}

// waitLog returns the node's next log line containing substr.
func (n *node) waitLog(substr string) string {
	n.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case line := <-n.logs:
			if strings.Contains(line, substr) {
				return line
			}
		case <-n.done:
			n.t.Fatalf("node exited waiting for %q", substr)
		case <-deadline:
			n.t.Fatalf("no log line with %q", substr)
		}
	}
}

// kill ends the node with SIGKILL: no farewell to the others.
func (n *node) kill() {
	_ = n.cmd.Process.Kill()
	<-n.done
}

// sock is a socket.io client of a node.
type sock struct {
	t *testing.T
	c *sioclient.Client
}

// enter connects to n and enters room with role; the reply must be want
// ("entered", or a signaling_error code).
func (n *node) enter(room, role, want string) *sock {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	c, err := sioclient.Dial(ctx, n.url, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { _ = c.Close() })
	s := &sock{n.t, c}
	if err := c.Emit("enter", map[string]string{"room": room, "role": role}); err != nil {
		n.t.Fatal(err)
	}
	if want == "entered" {
		s.want("entered", `"role":"`+role+`"`)
	} else {
		s.want("signaling_error", `"code":"`+want+`"`)
	}
	return s
}

func (s *sock) id() string { return s.c.ID() }

func (s *sock) send(msg string) {
	s.t.Helper()
	if err := s.c.Emit("message", json.RawMessage(msg)); err != nil {
		s.t.Fatal(err)
	}
}

// want returns the next event, which must be name with an argument
// containing substr.
func (s *sock) want(name, substr string) string {
	s.t.Helper()
	select {
	case ev, ok := <-s.c.Events():
		if !ok {
			s.t.Fatalf("%s closed waiting for %s %q", s.id(), name, substr)
		}
		arg := ""
		if len(ev.Args) > 0 {
			arg = string(ev.Args[0])
		}
		if ev.Name != name || !strings.Contains(arg, substr) {
			s.t.Fatalf("%s got %s %s, want %s with %q", s.id(), ev.Name, arg, name, substr)
		}
		return arg
	case <-time.After(within):
		s.t.Fatalf("%s: no %s with %q", s.id(), name, substr)
	}
	return ""
}

// expectGet asserts that GET url answers code with a body containing
// substr.
func expectGet(t *testing.T, url string, code int, substr string) {
	t.Helper()
	if got, body, _ := get(t, url); got != code || !strings.Contains(body, substr) {
		t.Errorf("GET %s = %d %.200s, want %d with %q", url, got, body, code, substr)
	}
}

// TestNodesShareRoomsOverRedis runs three node processes on one
// redis-server, with each room's sockets spread across them.
func TestNodesShareRoomsOverRedis(t *testing.T) {
	rs := redistest.Start(t)
	n1, n2, n3 := startNode(t, rs.URL()), startNode(t, rs.URL()), startNode(t, rs.URL())
	expectGet(t, n3.url+"/healthz", 200, `"nodes":3,"on_air":0,"redis":"up"`)

	talker := n1.enter("a", "talker", "entered")
	w2 := n2.enter("a", "watcher", "entered")
	w3 := n3.enter("a", "watcher", "entered")
	bTalker := n2.enter("b", "talker", "entered")
	bWatcher := n3.enter("b", "watcher", "entered")
	cTalker := n3.enter("c", "talker", "entered")
	cWatcher := n1.enter("c", "watcher", "entered")

	// Routing: watcher → talker, talker → one watcher, talker → all.
	w2.send(`{"type":"talk_request"}`)
	talker.want("message", fmt.Sprintf(`"from":%q`, w2.id()))
	talker.send(fmt.Sprintf(`{"type":"offer","sendto":%q,"sdp":"v=0"}`, w3.id()))
	talker.send(`{"type":"talk_ready"}`)
	w3.want("message", `"offer"`)
	w3.want("message", "talk_ready")
	w2.want("message", "talk_ready") // not the offer: that was w3's alone
	// Isolation: room b's watcher, on the node that got room a's
	// messages, sees only room b's.
	bTalker.send(`{"type":"talk_ready"}`)
	bWatcher.want("message", fmt.Sprintf(`"from":%q`, bTalker.id()))
	// Ownership: room a has its talker, wherever the second one connects.
	n3.enter("a", "talker", "room_taken")

	// Notices: a watcher leaving is told to its talker on another node.
	_ = w2.c.Close()
	talker.want("user disconnected", w2.id())

	// kill -9 of node 3: its watcher of room a, its watcher of room b and
	// its talker of room c are announced gone, and room c is free.
	start := time.Now()
	n3.kill()
	talker.want("user disconnected", w3.id())
	bTalker.want("user disconnected", bWatcher.id())
	cWatcher.want("user disconnected", cTalker.id())
	if took := time.Since(start); took > nodeTTL*12/10+2*time.Second {
		t.Errorf("the dead node's sockets were announced after %v; the bound is %v", took, nodeTTL*12/10)
	}
	t.Logf("a killed node's sockets were announced gone after %v (TTL %v)", time.Since(start).Round(time.Millisecond), nodeTTL)
	n2.enter("c", "talker", "entered")

	// Redis restart: the nodes serve their own sockets meanwhile, say so
	// on /readyz, /healthz and /metrics, and rejoin.
	rs.Stop()
	n1.waitLog("redis unreachable")
	expectGet(t, n1.url+"/readyz", 503, "redis unreachable")
	expectGet(t, n1.url+"/healthz", 200, `"redis":"down"`)
	expectGet(t, n1.metrics, 200, "broadcast_redis_up 0")
	local := n1.enter("a", "watcher", "entered")
	local.send(`{"type":"talk_request"}`)
	talker.want("message", local.id())

	rs.Restart(t)
	n1.waitLog("redis reachable")
	// Node 2 may have missed the outage between two heartbeats; either
	// way it finds itself unregistered in the empty Redis and registers.
	n2.waitLog("registered with redis")
	expectGet(t, n1.url+"/readyz", 200, `"ready"`)
	expectGet(t, n1.metrics, 200, "broadcast_redis_up 1")
	late := n2.enter("a", "watcher", "entered")
	late.send(`{"type":"talk_request"}`)
	talker.want("message", late.id())
	talker.send(`{"type":"end_talk"}`)
	local.want("message", "end_talk")
	late.want("message", "end_talk")
	n2.enter("a", "talker", "room_taken")
}
