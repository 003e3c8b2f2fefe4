package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzMessage: whatever a client sends, parseMessage either refuses it or
// yields an object that, stamped, is valid JSON with exactly our `from`,
// and a `relay` (in any spelling) only as the relay's stamp.
func FuzzMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"offer","sdp":"v=0","sendto":"b"}`, `{"type":"x","from":"forged"}`, `{}`, `[]`, `"s"`, `{"type":1}`, ` {"type":"x"} `,
		`{"type":"offer","relay":true}`, `{"type":"answer","Relay":1,"FROM":"x","relay":false}`, `{"type":"stats","relayWatchers":3,"relay":true}`,
	} {
		f.Add([]byte(s))
	}
	from := []byte(`"from":"me"`)
	relayFrom := []byte(`"relay":true,"from":"me"`)
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := parseMessage(raw)
		if err != nil {
			return
		}
		for _, stamp := range [][]byte{from, relayFrom} {
			out := m.stamp(stamp)
			var v map[string]any
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("stamp(%q) = %q: invalid JSON: %v", raw, out, err)
			}
			if v["from"] != "me" || countFolded(t, out, "from") != 1 {
				t.Fatalf("stamp(%q) = %q: want exactly from=me", raw, out)
			}
			relays := countFolded(t, out, "relay")
			if relay := bytes.Equal(stamp, relayFrom); relay && (relays != 1 || v["relay"] != true) || !relay && relays != 0 {
				t.Fatalf("stamp(%q, %s) = %q: the relay stamp is not the server's", raw, stamp, out)
			}
		}
	})
}

// countFolded counts the top-level members of the JSON object data whose
// name is key in any case, as Go's decoder matches names.
func countFolded(t *testing.T, data []byte, key string) int {
	n := 0
	for _, k := range topKeys(t, data) {
		if strings.EqualFold(k, key) {
			n++
		}
	}
	return n
}

// topKeys lists the names of the top-level members of the JSON object
// data, duplicates included.
func topKeys(t *testing.T, data []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
	}
	return keys
}

// countKeys counts the top-level members of the JSON object data named key,
// duplicates included.
func countKeys(t *testing.T, data []byte, key string) int {
	n := 0
	for _, k := range topKeys(t, data) {
		if k == key {
			n++
		}
	}
	return n
}
