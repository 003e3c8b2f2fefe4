package loadtest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/broadcast-service/broadcast/cluster"
	"github.com/broadcast-service/broadcast/internal/redistest"
	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/signaling"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestScenarios(t *testing.T) {
	url, _ := sigtest.Start(t, signaling.Options{Limits: sigtest.LoadLimits}, signaling.ServerOptions{})
	cfg := Config{
		URL: url, Rooms: 3, Watchers: 4, Messages: 300, Bytes: 500, Window: 32,
		Idle: 60, ServerPID: os.Getpid(), Churn: 60, Quiet: 5 * time.Second,
	}
	ctx := context.Background()
	for _, run := range []func(context.Context, Config) (Result, error){Fanout, Handshake, Idle, Churn} {
		res, err := run(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: %v", res.Scenario, err)
		}
		t.Logf("%+v", res)
		want := map[string]int64{"fanout": 3 * 4 * 300, "handshake": 3 * 4, "idle": 60, "churn": 60}[res.Scenario]
		if res.Ops != want || res.Lost != 0 || res.Duplicated != 0 || res.Misrouted != 0 || res.PerSecond <= 0 || res.P99 <= 0 {
			t.Errorf("%s: %+v, want %d ops and nothing lost, duplicated or misrouted", res.Scenario, res, want)
		}
	}
}

// TestScenariosAcrossNodes spreads every room over three nodes sharing
// rooms through a real redis-server.
func TestScenariosAcrossNodes(t *testing.T) {
	rs := redistest.Start(t)
	var urls []string
	for range 3 {
		// Redis state changes and dead nodes, should any happen, go to the
		// test's log.
		log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
		cl, err := cluster.New(cluster.Options{URL: rs.URL(), Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		url, hub := sigtest.Start(t, signaling.Options{Limits: sigtest.LoadLimits, Cluster: cl}, signaling.ServerOptions{})
		cl.Start(hub)
		t.Cleanup(func() { _ = cl.Close(context.Background()) })
		urls = append(urls, url)
	}
	cfg := Config{URLs: urls, Rooms: 3, Watchers: 4, Messages: 300, Bytes: 500, Window: 32, Churn: 60, Quiet: 5 * time.Second}
	for _, run := range []func(context.Context, Config) (Result, error){Fanout, Handshake, Churn} {
		res, err := run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("%s: %v", res.Scenario, err)
		}
		t.Logf("%+v", res)
		want := map[string]int64{"fanout": 3 * 4 * 300, "handshake": 3 * 4, "churn": 60}[res.Scenario]
		if res.Ops != want || res.Lost != 0 || res.Duplicated != 0 || res.Misrouted != 0 {
			t.Errorf("%s across nodes: %+v, want %d ops and nothing lost, duplicated or misrouted", res.Scenario, res, want)
		}
	}
}

// TestSetupRoomsWithoutWatchers: a room set up without watchers, as churn
// sets them up, is returned only once its talker holds it, so that every
// socket entering it afterwards is told to the talker when it leaves.
func TestSetupRoomsWithoutWatchers(t *testing.T) {
	url, hub := sigtest.Start(t, signaling.Options{Limits: sigtest.LoadLimits}, signaling.ServerOptions{})
	rooms, err := setupRooms(context.Background(), Config{URL: url, Rooms: 5, Quiet: 5 * time.Second}, "setup")
	if err != nil {
		t.Fatal(err)
	}
	talkers := map[string]bool{}
	for _, st := range hub.Rooms() {
		talkers[st.Name] = st.Talker
	}
	for _, r := range rooms {
		if !talkers[r.name] {
			t.Errorf("room %s returned before its talker held it", r.name)
		}
		r.close()
	}
}

// TestChurnRefused: a churner whose enter is refused is reported as a
// refusal at once, not counted as a socket that came and went unheard.
func TestChurnRefused(t *testing.T) {
	lim := sigtest.LoadLimits
	lim.RoomSockets = 1 // the talker fills its room
	url, _ := sigtest.Start(t, signaling.Options{Limits: lim}, signaling.ServerOptions{})
	res, err := Churn(context.Background(), Config{URL: url, Rooms: 1, Churn: 4, Quiet: 500 * time.Millisecond})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "room_full") {
		t.Errorf("churn into a full room: %+v, %v; want %v with room_full", res, err, ErrRefused)
	}
	if res.Ops != 0 {
		t.Errorf("churn into a full room: %d sockets counted as churned, want 0", res.Ops)
	}
}

// TestHearDeparturesQuiet: a talker that hears no departure at all stops
// after Quiet, not at whatever frame its socket gets next (its own ping's
// pong, 10 s on).
func TestHearDeparturesQuiet(t *testing.T) {
	url, _ := sigtest.Start(t, signaling.Options{Limits: sigtest.LoadLimits}, signaling.ServerOptions{})
	const quiet = 200 * time.Millisecond
	rooms, err := setupRooms(context.Background(), Config{URL: url, Rooms: 1, Quiet: quiet}, "quiet")
	if err != nil {
		t.Fatal(err)
	}
	r := rooms[0]
	defer r.close()
	if !r.entered { // nothing due may come before hearDepartures reads
		_ = r.talker.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := r.talker.read(func(p []byte) bool { return !bytes.HasPrefix(p, enteredPrefix) }); err != nil {
			t.Fatalf("no entered: %v", err)
		}
		_ = r.talker.ws.SetReadDeadline(time.Time{})
	}
	var heard atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		hearDepartures(r.talker, 1, quiet, &heard)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second): // well before the socket's ping, 10 s after dialing
		r.close()
		<-done
		t.Fatalf("the talker still waited 5 s for a departure, with Quiet %v", quiet)
	}
	if n := heard.Load(); n != 0 {
		t.Errorf("heard %d departures, want 0", n)
	}
}
