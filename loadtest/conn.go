// Package loadtest drives a signaling server over real WebSockets with the
// classic talk/watch protocol, which this service and the classic Node
// socket.io@2 signalingServer.js both speak, so that one driver measures
// both: room fan-out, the offer/answer/candidate handshake, idle sockets and
// connect/leave churn.
package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/protocol"
)

// conn is a lean socket.io client: frames are read raw and handed to a
// handler, so the driver spends little CPU of its own.
type conn struct {
	ws   *websocket.Conn
	id   string
	wmu  sync.Mutex
	done chan struct{}
	once sync.Once
}

func dial(ctx context.Context, base string) (*conn, error) {
	u := strings.Replace(strings.TrimRight(base, "/"), "http", "ws", 1) + "/socket.io/?EIO=3&transport=websocket"
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, u, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	c := &conn{ws: ws, done: make(chan struct{})}
	for i := 0; i < 2; i++ { // open, connect
		_, p, err := ws.ReadMessage()
		if err != nil {
			_ = ws.Close()
			return nil, fmt.Errorf("handshake: %w", err)
		}
		if i == 0 {
			c.id = stringField(p, "sid")
		}
	}
	go c.ping()
	return c, nil
}

func (c *conn) ping() {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			_ = c.write([]byte("2"))
		}
	}
}

func (c *conn) write(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, p)
}

func (c *conn) enter(room string) error {
	return c.write(fmt.Appendf(nil, `42[%q,%q]`, protocol.EventEnter, room))
}

// message sends a `message` whose fields are given as raw JSON members.
func (c *conn) message(members string) error {
	return c.write([]byte(messagePrefix + members + `}]`))
}

// typed is the `type` member of a message of type t, as raw JSON.
func typed(t string) string { return `"type":` + strconv.Quote(t) }

// What the driver writes and looks for in raw frames, made once.
var (
	messagePrefix          = `42[` + strconv.Quote(protocol.EventMessage) + `,{`
	enteredPrefix          = []byte(`42[` + strconv.Quote(protocol.EventEntered))
	errorPrefix            = []byte(`42[` + strconv.Quote(protocol.EventError))
	quotedUserDisconnected = []byte(strconv.Quote(protocol.EventUserDisconnected))
	quotedTalkRequest      = []byte(strconv.Quote(protocol.TypeTalkRequest))
	quotedOffer            = []byte(strconv.Quote(protocol.TypeOffer))
	quotedAnswer           = []byte(strconv.Quote(protocol.TypeAnswer))
	quotedCandidate        = []byte(strconv.Quote(protocol.TypeCandidate))
)

// read calls f with each frame until f returns false or reading fails.
func (c *conn) read(f func(p []byte) bool) error {
	for {
		_, p, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		if !f(p) {
			return nil
		}
	}
}

// handled returns once the server has handled the events c sent before:
// it sends a ping and reads up to its pong. This service reads a socket's
// frames in order and writes the pong only after handling the events read
// before the ping; the classic server handles them on the next tick, before
// it reads any other socket. It reports whether an `entered` came before
// the pong, and returns the read's error, a timeout after quiet.
func (c *conn) handled(quiet time.Duration) (entered bool, err error) {
	if err := c.write([]byte("2")); err != nil {
		return false, err
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(quiet))
	err = c.read(func(p []byte) bool {
		entered = entered || bytes.HasPrefix(p, enteredPrefix)
		return string(p) != "3"
	})
	_ = c.ws.SetReadDeadline(time.Time{})
	if err != nil {
		return entered, fmt.Errorf("waiting for a pong: %w", err)
	}
	return entered, nil
}

// awaitEnter returns once the server has handled c's enter: at its
// `entered` if the server replies so (replies), else at the pong of a
// ping, which follows the enter. It returns ErrRefused with the server's
// `signaling_error`, or the read's error, a timeout after quiet.
func (c *conn) awaitEnter(replies bool, quiet time.Duration) error {
	if !replies {
		if err := c.write([]byte("2")); err != nil {
			return err
		}
	}
	var refusal []byte
	_ = c.ws.SetReadDeadline(time.Now().Add(quiet))
	err := c.read(func(p []byte) bool {
		switch {
		case bytes.HasPrefix(p, errorPrefix):
			refusal = p
			return false
		case replies:
			return !bytes.HasPrefix(p, enteredPrefix)
		}
		return string(p) != "3"
	})
	_ = c.ws.SetReadDeadline(time.Time{})
	switch {
	case refusal != nil:
		return fmt.Errorf("%w: %s", ErrRefused, refusal)
	case err != nil:
		return fmt.Errorf("waiting for the enter's reply: %w", err)
	}
	return nil
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

// intField returns the integer after `"name":` in p, or -1.
func intField(p []byte, name string) int64 {
	i := bytes.Index(p, []byte(`"`+name+`":`))
	if i < 0 {
		return -1
	}
	p = p[i+len(name)+3:]
	j := bytes.IndexAny(p, ",}")
	if j < 0 {
		return -1
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(p[:j])), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// stringField returns the string after `"name":"` in p, or "".
func stringField(p []byte, name string) string {
	i := bytes.Index(p, []byte(`"`+name+`":"`))
	if i < 0 {
		return ""
	}
	p = p[i+len(name)+4:]
	j := bytes.IndexByte(p, '"')
	if j < 0 {
		return ""
	}
	return string(p[:j])
}
