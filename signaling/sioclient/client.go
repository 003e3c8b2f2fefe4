// Package sioclient is a small socket.io 2.x client: Engine.IO 3 over the
// WebSocket transport, root namespace, events without acks or binary
// attachments. It is what the Go peers, tests and load tools use to speak
// to the signaling server.
//
//	c, err := sioclient.Dial(ctx, "http://localhost:8080", nil)
//	c.Emit("enter", "lecture1")
//	for ev := range c.Events() { ... }
package sioclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/protocol"
)

// Silence allowed before the server's handshake says otherwise: socket.io
// 2.x's defaults.
const (
	defaultPingInterval = 25 * time.Second
	defaultPingTimeout  = 5 * time.Second
)

// DefaultBuffer is the capacity of the Events channel, in events, when
// Options.Buffer is zero: room for a burst of trickled ICE candidates.
const DefaultBuffer = 256

// Event is one event received from the server.
type Event struct {
	Name string
	Args []json.RawMessage
}

// Options configure Dial. The zero value is usable.
type Options struct {
	// Header is sent with the WebSocket handshake (e.g. Origin).
	Header http.Header
	// Buffer is the capacity of the Events channel; zero means
	// DefaultBuffer. When it
	// is full, reading from the server pauses.
	Buffer int
	// Dialer overrides the WebSocket dialer.
	Dialer *websocket.Dialer
}

// Client is one socket.io connection. Its methods are safe for concurrent
// use.
type Client struct {
	id     string
	ws     *websocket.Conn
	events chan Event
	silent time.Duration // the longest the server may say nothing: its ping interval plus ping timeout

	wmu sync.Mutex // guards writes to ws

	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup
	err       error // why reading stopped; set before events is closed
}

type openPacket struct {
	SID          string `json:"sid"`
	PingInterval int    `json:"pingInterval"` // ms
	PingTimeout  int    `json:"pingTimeout"`  // ms
}

// Dial connects to the socket.io server at serverURL (http, https, ws or
// wss; the path /socket.io/ is added) and returns once the server has
// accepted the root namespace.
//
// The connection then ends (Events closed, Err saying why) with
// ErrFrameTooLarge when the server sends a message over
// protocol.MaxFrameBytes, and with ErrServerSilent when it sends nothing
// for its ping interval plus its ping timeout (from its handshake;
// socket.io's 25 s and 5 s if it gives none): the client pings each
// interval, and a live server answers.
func Dial(ctx context.Context, serverURL string, opts *Options) (*Client, error) {
	if opts == nil {
		opts = &Options{}
	}
	ws, err := dialWebSocket(ctx, serverURL, opts)
	if err != nil {
		return nil, err
	}
	open, err := handshake(ws)
	if err != nil {
		_ = ws.Close()
		return nil, readError(err)
	}
	interval, timeout := open.timing()
	buf := opts.Buffer
	if buf <= 0 {
		buf = DefaultBuffer
	}
	c := &Client{id: open.SID, ws: ws, events: make(chan Event, buf), done: make(chan struct{}), silent: interval + timeout}
	_ = ws.SetReadDeadline(time.Now().Add(c.silent))
	c.wg.Add(2)
	go c.readLoop()
	go c.pingLoop(interval)
	return c, nil
}

// dialWebSocket opens the WebSocket to the server's socket.io endpoint,
// reading at most protocol.MaxFrameBytes a message, and until ctx's
// deadline for the handshake.
func dialWebSocket(ctx context.Context, serverURL string, opts *Options) (*websocket.Conn, error) {
	u, err := endpoint(serverURL)
	if err != nil {
		return nil, err
	}
	d := opts.Dialer
	if d == nil {
		d = websocket.DefaultDialer
	}
	ws, resp, err := d.DialContext(ctx, u, opts.Header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	ws.SetReadLimit(protocol.MaxFrameBytes)
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.SetReadDeadline(dl)
	}
	return ws, nil
}

// timing returns the server's ping interval and ping timeout, socket.io's
// defaults for what it does not give.
func (open openPacket) timing() (interval, timeout time.Duration) {
	interval = time.Duration(open.PingInterval) * time.Millisecond
	timeout = time.Duration(open.PingTimeout) * time.Millisecond
	if interval <= 0 {
		interval = defaultPingInterval
	}
	if timeout <= 0 {
		timeout = defaultPingTimeout
	}
	return interval, timeout
}

func endpoint(serverURL string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("server url: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("server url %q: scheme must be http, https, ws or wss", serverURL)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/socket.io/"
	u.RawQuery = "EIO=3&transport=websocket"
	return u.String(), nil
}

// handshake reads the Engine.IO open packet and the socket.io connect packet.
func handshake(ws *websocket.Conn) (openPacket, error) {
	var open openPacket
	_, p, err := ws.ReadMessage()
	if err != nil {
		return open, fmt.Errorf("read open packet: %w", err)
	}
	if len(p) == 0 || p[0] != '0' || json.Unmarshal(p[1:], &open) != nil || open.SID == "" {
		return open, fmt.Errorf("%w: open packet %q", ErrProtocol, p)
	}
	_, p, err = ws.ReadMessage()
	if err != nil {
		return open, fmt.Errorf("read connect packet: %w", err)
	}
	if !strings.HasPrefix(string(p), "40") {
		return open, fmt.Errorf("%w: connect packet %q", ErrProtocol, p)
	}
	return open, nil
}

// ID returns the socket id the server gave this connection.
func (c *Client) ID() string { return c.id }

// Events returns the events received, in order. It is closed when the
// connection ends; Err then says why.
func (c *Client) Events() <-chan Event { return c.events }

// Err returns why the connection ended, once Events is closed.
func (c *Client) Err() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	return c.err
}

// Emit sends an event whose arguments are encoded with encoding/json
// (a json.RawMessage is sent as it is).
func (c *Client) Emit(event string, args ...any) error {
	all := make([]any, 0, len(args)+1)
	all = append(all, event)
	all = append(all, args...)
	data, err := json.Marshal(all)
	if err != nil {
		return fmt.Errorf("encode %s: %w", event, err)
	}
	return c.write(append([]byte("42"), data...))
}

// EmitRaw sends a socket.io packet as it is, after the Engine.IO message
// type (e.g. `2["message",{...}]`). It is for tests of malformed input.
func (c *Client) EmitRaw(packet []byte) error {
	return c.write(append([]byte("4"), packet...))
}

func (c *Client) write(p []byte) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(websocket.TextMessage, p); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// Close closes the connection and waits for its goroutines.
func (c *Client) Close() error {
	c.shutdown(ErrClosed)
	c.wg.Wait()
	return nil
}

func (c *Client) shutdown(err error) {
	c.closeOnce.Do(func() {
		c.err = err
		close(c.done)
		_ = c.ws.Close()
	})
}

func (c *Client) readLoop() {
	defer c.wg.Done()
	defer close(c.events)
	for {
		_, p, err := c.ws.ReadMessage()
		if err != nil {
			c.shutdown(readError(err))
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(c.silent))
		ev, ok, err := parse(p)
		if err != nil {
			c.shutdown(err)
			return
		}
		if !ok {
			continue
		}
		select {
		case c.events <- ev:
		case <-c.done:
			return
		}
	}
}

// readError says why reading from the server failed: ErrFrameTooLarge,
// ErrServerSilent, or the WebSocket's own error.
func readError(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		return fmt.Errorf("read: %w (over %d bytes)", ErrFrameTooLarge, protocol.MaxFrameBytes)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("read: %w: %w", ErrServerSilent, err)
	}
	return fmt.Errorf("read: %w", err)
}

// parse decodes one Engine.IO text packet; ok is false for packets that
// carry no event (pong, noop, ...).
func parse(p []byte) (Event, bool, error) {
	if len(p) < 2 || p[0] != '4' {
		if len(p) > 0 && p[0] == '1' {
			return Event{}, false, fmt.Errorf("%w: server closed the session", ErrClosed)
		}
		return Event{}, false, nil
	}
	switch p[1] {
	case '2':
		var arr []json.RawMessage
		if err := json.Unmarshal(p[2:], &arr); err != nil || len(arr) == 0 {
			return Event{}, false, fmt.Errorf("%w: event packet %q", ErrProtocol, p)
		}
		var ev Event
		if err := json.Unmarshal(arr[0], &ev.Name); err != nil || ev.Name == "" {
			return Event{}, false, fmt.Errorf("%w: event name in %q", ErrProtocol, p)
		}
		ev.Args = arr[1:]
		return ev, true, nil
	case '1':
		return Event{}, false, fmt.Errorf("%w: server disconnected the namespace", ErrClosed)
	default:
		return Event{}, false, nil
	}
}

func (c *Client) pingLoop(every time.Duration) {
	defer c.wg.Done()
	if every <= 0 {
		every = defaultPingInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if err := c.write([]byte("2")); err != nil {
				c.shutdown(err)
				return
			}
		}
	}
}
