package protocol

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/broadcast-service/broadcast"

// deps returns the packages pkgs import, directly or not, by `go list
// -deps`.
func deps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(goTool, append([]string{"list", "-deps"}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list -deps %v: %v", pkgs, err)
	}
	return strings.Fields(string(out))
}

// TestPeersDoNotImportServer: the Go talker and watcher are clients; they
// speak the protocol through this package, not through the server's.
func TestPeersDoNotImportServer(t *testing.T) {
	list := deps(t, module+"/broadcaster", module+"/viewer")
	if len(list) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	for _, p := range list {
		if p == module+"/signaling" || strings.HasPrefix(p, "github.com/googollee/go-socket.io") {
			t.Errorf("the Go peers depend on %s", p)
		}
	}
}

// TestStandardLibraryOnly: any client can import the protocol without
// pulling in anything else.
func TestStandardLibraryOnly(t *testing.T) {
	for _, p := range deps(t, module+"/protocol") {
		if p != module+"/protocol" && strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
			t.Errorf("protocol depends on %s", p)
		}
	}
}
