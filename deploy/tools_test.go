package deploy

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// within bounds each wait on an external process: generous, as
// docker-compose (Python) alone has taken over 15 s to start on a loaded
// machine.
const within = time.Minute

// lookPath fails the test when a tool the tests need is missing.
func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is missing; run `make test-deps` (scripts/install-test-deps.sh)", name)
	}
	return p
}

// syncBuffer is a bytes.Buffer safe for a process's output copier and the
// test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestCoturnAcceptsCommand starts Debian's coturn with the compose file's
// command, moved onto a free loopback port: coturn must start (it exits on
// an unknown option such as 4.6's missing --no-loopback-peers), and take
// every --denied-peer-ip (it only logs "Wrong address format" for a CIDR
// and then denies nothing).
func TestCoturnAcceptsCommand(t *testing.T) {
	bin := lookPath(t, "turnserver")
	port := freePort(t)
	dir := t.TempDir()
	var args []string
	for _, a := range coturnCommand(t, loadCompose(t)) {
		if !strings.HasPrefix(a, "--listening-port=") {
			args = append(args, a)
		}
	}
	args = append(args, "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port="+strconv.Itoa(port),
		"--log-file=stdout", "--simple-log", "--pidfile="+filepath.Join(dir, "turnserver.pid"), "--db="+filepath.Join(dir, "turndb"))

	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Started once its TCP listener accepts: polling a port, bounded by ctx.
	for {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
			_ = c.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("turnserver exited (%v) on the compose command:\n%s", err, log.String())
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("turnserver did not listen within %v:\n%s", within, log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	_ = cmd.Process.Kill()
	if err := <-exited; err != nil && !errors.As(err, new(*exec.ExitError)) {
		t.Fatal(err)
	}

	out := log.String()
	for _, bad := range []string{"unrecognized option", "Wrong address", "ERROR"} {
		if strings.Contains(out, bad) {
			t.Errorf("turnserver logged %q:\n%s", bad, out)
		}
	}
	for _, v := range flagValues(args, "--denied-peer-ip") {
		if !strings.Contains(out, "Black listing: "+v+"\n") {
			t.Errorf("turnserver did not take --denied-peer-ip=%s", v)
		}
	}
	if !strings.Contains(out, "TCP relay endpoints are not allowed") {
		t.Errorf("turnserver did not take --no-tcp-relay:\n%s", out)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestComposeNeedsSecrets: docker-compose refuses the file without each
// required variable (the secrets and RELAY_PUBLIC_IP), naming it, and
// accepts it with all of them (as `make test-compose` runs it).
func TestComposeNeedsSecrets(t *testing.T) {
	bin := lookPath(t, "docker-compose")
	config := func(env ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "-f", composeFile, "config", "-q")
		// Only what docker-compose needs, so a secret in the test's own
		// environment cannot make the check pass.
		cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	all := func(but string) []string {
		var env []string
		for _, name := range required {
			if name != but {
				env = append(env, name+"="+testEnv[name])
			}
		}
		return env
	}
	if out, err := config(all("")...); err != nil {
		t.Fatalf("docker-compose config with %s: %v\n%s", required, err, out)
	}
	for _, missing := range required {
		out, err := config(all(missing)...)
		if err == nil || !strings.Contains(out, missing) {
			t.Errorf("docker-compose config without %s: err %v, output:\n%s", missing, err, out)
		}
		out, err = config(append(all(missing), missing+"=")...)
		if err == nil {
			t.Errorf("docker-compose config with an empty %s passed:\n%s", missing, out)
		}
	}
}
