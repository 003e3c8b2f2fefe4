package cluster

import (
	"bytes"
	"encoding/binary"
)

// A routed message crosses nodes as "m", NUL, its stream and sequence
// number (8 bytes each, big-endian), the sending node, NUL, the room, NUL,
// the recipient's socket id ("" for the whole room), NUL, then the
// message's JSON, which stays as it is: no re-encoding on either side.
// Membership events are JSON objects (see event), so the first byte tells
// the two apart.
//
// A node numbers the messages it publishes on each channel 1, 2, 3… within
// a stream, whose id is unique on the node; a node that receives them
// counts the numbers it missed as dropped (see heard). Stream 0 is not
// numbered.
const messageTag = 'm'

// seqAt and headLen: where the stream and sequence number sit, each
// seqLen bytes, and where the node id starts; addressFields is how many
// NUL-ended fields follow (node, room, recipient).
const (
	seqAt         = 2
	seqLen        = 8
	headLen       = seqAt + 2*seqLen
	addressFields = 3
)

func encodeMessage(node, room, to string, data []byte) []byte {
	b := make([]byte, headLen, headLen+addressFields+len(node)+len(room)+len(to)+len(data))
	b[0], b[1] = messageTag, 0
	b = append(b, node...)
	b = append(b, 0)
	b = append(b, room...)
	b = append(b, 0)
	b = append(b, to...)
	b = append(b, 0)
	return append(b, data...)
}

// stampMessage numbers a message encodeMessage wrote.
func stampMessage(p []byte, stream, seq uint64) {
	binary.BigEndian.PutUint64(p[seqAt:], stream)
	binary.BigEndian.PutUint64(p[seqAt+seqLen:], seq)
}

// messageSeq returns a message's stream and sequence number; p must have
// decoded.
func messageSeq(p []byte) (stream, seq uint64) {
	return binary.BigEndian.Uint64(p[seqAt:]), binary.BigEndian.Uint64(p[seqAt+seqLen:])
}

// decodeMessage reads what encodeMessage wrote; ok is false for anything
// else.
func decodeMessage(p []byte) (node, room, to string, data []byte, ok bool) {
	if len(p) < headLen || p[0] != messageTag || p[1] != 0 {
		return "", "", "", nil, false
	}
	p = p[headLen:]
	var fields [addressFields]string
	for i := range fields {
		n := bytes.IndexByte(p, 0)
		if n < 0 {
			return "", "", "", nil, false
		}
		fields[i], p = string(p[:n]), p[n+1:]
	}
	return fields[0], fields[1], fields[2], p, true
}

// stream numbers one node's messages on one channel.
type stream struct{ id, seq uint64 }

// heard is what a node last received from another node on one channel.
type heard struct{ stream, seq uint64 }

// missed records message seq of stream from node on channel and returns
// how many of that stream's messages before it never came. Messages from
// before the channel was (freshly) subscribed are not counted: the
// receiver forgets a channel's numbers when it unsubscribes.
func missed(h map[string]map[string]*heard, channel, node string, stream, seq uint64) uint64 {
	if stream == 0 {
		return 0
	}
	byNode := h[channel]
	if byNode == nil {
		byNode = map[string]*heard{}
		h[channel] = byNode
	}
	last := byNode[node]
	switch {
	case last == nil:
		byNode[node] = &heard{stream, seq}
		return 0
	case last.stream != stream: // a new stream, begun while subscribed
		last.stream, last.seq = stream, seq
		return seq - 1
	case seq > last.seq:
		n := seq - last.seq - 1
		last.seq = seq
		return n
	}
	return 0
}
