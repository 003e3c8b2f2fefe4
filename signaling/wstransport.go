package signaling

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/protocol"
)

// readBufferBytes is each socket's WebSocket read buffer. Signaling
// messages are small and idle sockets are many, so it is smaller than
// net/http's 4 KB.
const readBufferBytes = 1024

var errServerOnly = errors.New("the signaling transport only accepts connections")

// wsTransport is the Engine.IO WebSocket transport for go-socket.io's
// engine, in place of the library's own. The frames on the wire are the
// same; what differs is cost under load: no goroutine and timer per frame
// read or written, no goroutine parked per connection, write buffers pooled
// for idle sockets, and a TCP connection that can be corked so that a
// backlog of frames leaves in one system call.
//
// It is also the gate of everything a client sends: each message passes
// checkInbound before go-socket.io's parsers see it, and a client that
// sends anything else is told why (a `signaling_error` with code
// bad_frame) and disconnected.
type wsTransport struct {
	upgrader websocket.Upgrader
	log      *slog.Logger
	refusals *throttledLog
	setups   setups

	// testHookAccepted, if set, runs after a connection is upgraded and
	// before the engine sets its session up.
	testHookAccepted func()
}

func newWSTransport(checkOrigin func(*http.Request) bool, log *slog.Logger, refusals *throttledLog) *wsTransport {
	return &wsTransport{
		upgrader: websocket.Upgrader{
			CheckOrigin:     checkOrigin,
			ReadBufferSize:  readBufferBytes,
			WriteBufferPool: &sync.Pool{},
		},
		log: log, refusals: refusals,
	}
}

func (t *wsTransport) Name() string { return "websocket" }

func (t *wsTransport) Dial(*url.URL, http.Header) (transport.Conn, error) {
	return nil, errServerOnly
}

// Accept upgrades the request; the WebSocket runs on a corkConn.
// It returns ErrClosed once the server is closing.
func (t *wsTransport) Accept(w http.ResponseWriter, r *http.Request) (transport.Conn, error) {
	if !t.setups.begin() {
		return nil, fmt.Errorf("server shutting down: %w", ErrClosed)
	}
	ws, err := t.upgrader.Upgrade(corkingResponse{w}, r, nil)
	if err != nil {
		t.setups.end()
		return nil, fmt.Errorf("websocket upgrade: %w", err)
	}
	ws.SetReadLimit(protocol.MaxFrameBytes)
	c := &wsConn{ws: ws, url: *r.URL, header: r.Header, log: t.log, refusals: t.refusals, setups: &t.setups}
	c.enc = packet.NewEncoder(wsFrames{c})
	c.dec = packet.NewDecoder(wsFrames{c})
	if t.testHookAccepted != nil {
		t.testHookAccepted()
	}
	return c, nil
}

// wsConn is one Engine.IO WebSocket connection. The engine reads from one
// goroutine; writers (events and pongs) take wmu from NextWriter until the
// writer is closed.
type wsConn struct {
	ws       *websocket.Conn
	url      url.URL
	header   http.Header
	enc      *packet.Encoder
	dec      *packet.Decoder
	log      *slog.Logger
	refusals *throttledLog
	setups   *setups
	setUp    sync.Once // uncounts the session from setups

	wmu sync.Mutex // guards writing to ws, and its write deadline
}

// settled tells setups the engine has handed the session on, or dropped it.
func (c *wsConn) settled() { c.setUp.Do(c.setups.end) }

func (c *wsConn) NextReader() (frame.Type, packet.Type, io.ReadCloser, error) {
	return c.dec.NextReader()
}

func (c *wsConn) NextWriter(ft frame.Type, pt packet.Type) (io.WriteCloser, error) {
	return c.enc.NextWriter(ft, pt)
}

func (c *wsConn) Close() error {
	c.settled()
	return c.ws.Close()
}

func (c *wsConn) URL() url.URL              { return c.url }
func (c *wsConn) LocalAddr() net.Addr       { return c.ws.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr      { return c.ws.RemoteAddr() }
func (c *wsConn) RemoteHeader() http.Header { return c.header }

func (c *wsConn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.SetWriteDeadline(t)
}

// wsFrames is the frame layer under the Engine.IO packet codec: one
// WebSocket message per frame.
type wsFrames struct{ c *wsConn }

func (f wsFrames) NextReader() (frame.Type, io.ReadCloser, error) {
	f.c.settled() // only the socket.io server reads
	typ, r, err := f.c.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	ft := frame.String
	if typ == websocket.BinaryMessage {
		ft = frame.Binary
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, nil, err
	}
	switch verdict, err := checkInbound(ft == frame.Binary, data); {
	case err != nil:
		f.c.reject(err)
		return 0, nil, err
	case verdict == inboundLeave:
		f.c.log.Debug("socket left its session", "remote", f.c.ws.RemoteAddr().String())
		return 0, nil, io.EOF
	}
	return ft, &messageReader{bytes.NewReader(data)}, nil
}

// rejectWriteTimeout bounds telling a client why it is disconnected.
const rejectWriteTimeout = time.Second

// reject tells the client why its frame was refused, as a
// `signaling_error` event, and logs it; the caller's error then closes the
// connection.
func (c *wsConn) reject(err error) {
	c.refusals.Log(slog.LevelInfo, "socket closed", "code", Code(err), "remote", c.ws.RemoteAddr().String(), "reason", err.Error())
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(rejectWriteTimeout))
	_ = c.ws.WriteMessage(websocket.TextMessage, append([]byte("4"), errorFrame(err).Packet...))
}

func (f wsFrames) NextWriter(ft frame.Type) (io.WriteCloser, error) {
	typ := websocket.TextMessage
	if ft == frame.Binary {
		typ = websocket.BinaryMessage
	}
	f.c.wmu.Lock()
	w, err := f.c.ws.NextWriter(typ)
	if err != nil {
		f.c.wmu.Unlock()
		return nil, err
	}
	return &messageWriter{w: w, mu: &f.c.wmu}, nil
}

// messageReader reads one whole message. It is a byte reader, so the
// socket.io parser reads it directly instead of wrapping it in a 4 KB
// bufio.Reader that it would keep until the socket's next message; closing
// it drops the message.
type messageReader struct{ *bytes.Reader }

func (r *messageReader) Close() error {
	r.Reader = bytes.NewReader(nil)
	return nil
}

// messageWriter sends its message and releases the connection when closed.
type messageWriter struct {
	w    io.WriteCloser
	mu   *sync.Mutex
	once sync.Once
}

func (w *messageWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

func (w *messageWriter) Close() error {
	var err error
	w.once.Do(func() {
		err = w.w.Close()
		w.mu.Unlock()
	})
	return err
}
