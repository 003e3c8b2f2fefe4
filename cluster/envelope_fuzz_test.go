package cluster

import (
	"bytes"
	"testing"
)

// FuzzDecodeMessage: what arrives on a channel never panics the decoder,
// and what decodes encodes back to the same bytes.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(encodeMessage("9f2c", "lecture1", "", []byte(`{"type":"talk_ready","from":"a"}`)))
	f.Add(encodeMessage("9f2c", "lecture1", "sock", []byte(`{"type":"offer","sdp":"v=0\r\n"}`)))
	f.Add([]byte(`{"k":"j","n":"9f2c","s":"a","t":true,"v":1}`))
	f.Add([]byte("m\x00\x00\x00"))
	f.Add(append([]byte("m\x00"), make([]byte, 19)...))
	f.Fuzz(func(t *testing.T, p []byte) {
		node, room, to, data, ok := decodeMessage(p)
		if !ok {
			return
		}
		again := encodeMessage(node, room, to, data)
		stream, seq := messageSeq(p)
		stampMessage(again, stream, seq)
		if !bytes.Equal(again, p) {
			t.Fatalf("%q decodes to %q %q %q %q, which encode differently", p, node, room, to, data)
		}
	})
}
