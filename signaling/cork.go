package signaling

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
)

// corkFlushBytes is how much a corked connection gathers before it writes
// anyway, in bytes.
const corkFlushBytes = 64 << 10

// corkKeepBytes is the largest buffer, in bytes, a corked connection keeps
// once flushed; a larger one, grown by a burst, is let go, so an idle
// socket does not hold it.
const corkKeepBytes = 4 * corkFlushBytes

// corkConn is the TCP connection under one WebSocket. While corked, writes
// gather in a buffer and leave in one system call when uncorked, so a
// backlog of frames costs one write instead of one per frame. Uncorked, it
// writes through.
type corkConn struct {
	net.Conn

	mu     sync.Mutex // guards corked and buf
	corked bool
	buf    []byte
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.Conn.Write(p)
	}
	c.buf = append(c.buf, p...)
	if len(c.buf) >= corkFlushBytes {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was gathered and returns to writing through.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

func (c *corkConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > corkKeepBytes {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// RemoteAddr returns the peer's address, carrying the connection with it:
// go-socket.io hands the address through to socketio.Conn.RemoteAddr, which
// is how a sink finds the connection to cork.
func (c *corkConn) RemoteAddr() net.Addr { return corkAddr{c.Conn.RemoteAddr(), c} }

type corkAddr struct {
	net.Addr
	conn *corkConn
}

// corkingResponse makes the WebSocket upgrade hijack a corkConn.
type corkingResponse struct{ http.ResponseWriter }

var errNoHijack = errors.New("response cannot be hijacked")

func (w corkingResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errNoHijack
	}
	conn, brw, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &corkConn{Conn: conn}, brw, nil
}
