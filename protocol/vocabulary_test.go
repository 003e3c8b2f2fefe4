package protocol

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestVocabularyHoldsEveryConstant: the words the pages get are all the
// package's, by the name the pages use, and nothing else.
func TestVocabularyHoldsEveryConstant(t *testing.T) {
	v := Vocabulary()
	roles := make(map[string]string, len(v.Roles))
	for name, r := range v.Roles {
		roles[name] = string(r)
	}
	maps := map[string]map[string]string{"Event": v.Events, "Type": v.Types, "Code": v.Codes, "Reject": v.Rejects, "Role": roles, "Layer": v.Layers}
	want := make(map[string]int)
	for _, c := range constants(t) {
		m, ok := maps[c.Kind]
		if !ok {
			continue
		}
		want[c.Kind]++
		rest := strings.TrimPrefix(c.Name, c.Kind)
		first, size := utf8.DecodeRuneInString(rest)
		key := string(unicode.ToLower(first)) + rest[size:]
		got, ok := m[key]
		if !ok {
			t.Errorf("Vocabulary has no %s (%s)", key, c.Name)
		} else if got != c.Value {
			t.Errorf("Vocabulary %s = %q, want %q (%s)", key, got, c.Value, c.Name)
		}
	}
	for kind, m := range maps {
		if len(m) != want[kind] {
			t.Errorf("Vocabulary holds %d %s words, the package %d", len(m), kind, want[kind])
		}
	}
	if want["Type"] != len(Types) {
		t.Errorf("%d Type constants, %d Types", want["Type"], len(Types))
	}
}
