package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// FuzzMessage: whatever a client sends, parseMessage either refuses it or
// yields an object that, stamped, is valid JSON with exactly our `from`.
func FuzzMessage(f *testing.F) {
	for _, s := range []string{`{"type":"offer","sdp":"v=0","sendto":"b"}`, `{"type":"x","from":"forged"}`, `{}`, `[]`, `"s"`, `{"type":1}`, ` {"type":"x"} `} {
		f.Add([]byte(s))
	}
	from := []byte(`"from":"me"`)
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := parseMessage(raw)
		if err != nil {
			return
		}
		out := m.stamp(from)
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("stamp(%q) = %q: invalid JSON: %v", raw, out, err)
		}
		if v["from"] != "me" || countKeys(t, out, "from") != 1 {
			t.Fatalf("stamp(%q) = %q: want exactly from=me", raw, out)
		}
	})
}

// countKeys counts the top-level members of the JSON object data named key,
// duplicates included.
func countKeys(t *testing.T, data []byte, key string) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	n := 0
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		if k == key {
			n++
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
	}
	return n
}
