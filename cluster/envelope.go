package cluster

import "bytes"

// A routed message crosses nodes as "m", NUL, the sending node, NUL, the
// room, NUL, the recipient's socket id ("" for the whole room), NUL, then
// the message's JSON, which stays as it is: no re-encoding on either side.
// Membership events are JSON objects (see event), so the first byte tells
// the two apart.
const messageTag = 'm'

func encodeMessage(node, room, to string, data []byte) []byte {
	b := make([]byte, 0, 5+len(node)+len(room)+len(to)+len(data))
	b = append(b, messageTag, 0)
	b = append(b, node...)
	b = append(b, 0)
	b = append(b, room...)
	b = append(b, 0)
	b = append(b, to...)
	b = append(b, 0)
	return append(b, data...)
}

// decodeMessage reads what encodeMessage wrote; ok is false for anything
// else.
func decodeMessage(p []byte) (node, room, to string, data []byte, ok bool) {
	if len(p) < 2 || p[0] != messageTag || p[1] != 0 {
		return "", "", "", nil, false
	}
	p = p[2:]
	var fields [3]string
	for i := range fields {
		n := bytes.IndexByte(p, 0)
		if n < 0 {
			return "", "", "", nil, false
		}
		fields[i], p = string(p[:n]), p[n+1:]
	}
	return fields[0], fields[1], fields[2], p, true
}
