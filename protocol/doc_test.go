package protocol

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocumentNamesEveryConstant: docs/protocol.md is the protocol for a
// new client; every event name, message type and refusal code of this
// package appears in it as `value`, and every timing constant by name.
func TestDocumentNamesEveryConstant(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range constants(t) {
		want := ""
		switch c.Kind {
		case "timing":
			want = c.Name
		case "Event", "Type", "Code":
			want = "`" + c.Value + "`"
		case "Reject":
			want = `"` + c.Value + `"`
		default:
			continue
		}
		checked++
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/protocol.md does not name %s (%s)", c.Name, want)
		}
	}
	if checked < 30 {
		t.Fatalf("checked only %d constants: the package's layout changed under this test", checked)
	}
}
