package signaling

import (
	"encoding/json"
	"strconv"
)

// Frame is one outbound event, encoded once and shared read-only by every
// recipient. Packet is the socket.io packet text of the event
// (`2["event",data]`, type 2 = EVENT in the root namespace, per the
// socket.io protocol v4 used by socket.io 2.x).
type Frame struct {
	Event  string
	Data   json.RawMessage
	Packet []byte
}

// NewFrame encodes event with data, which must be valid JSON.
func NewFrame(event string, data json.RawMessage) *Frame {
	p := make([]byte, 0, len(event)+len(data)+len(`2["",]`))
	p = append(p, '2', '[')
	p = strconv.AppendQuote(p, event) // event names are plain ASCII
	p = append(p, ',')
	p = append(p, data...)
	p = append(p, ']')
	return &Frame{Event: event, Data: data, Packet: p}
}

// Size is the frame's weight against a client's queue limit, in bytes.
func (f *Frame) Size() int { return len(f.Packet) }
