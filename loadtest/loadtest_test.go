package loadtest

import (
	"context"
	"log/slog"
	"os"
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
