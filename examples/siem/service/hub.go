package service

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Close reasons a websocket client can receive.
const (
	ReasonBehind   = "client fell behind"
	ReasonShutdown = "server shutting down"
)

// hub fans accepted events out to the websocket clients. Each client has a bounded queue of
// messages and one writer goroutine; broadcast never blocks: a client whose queue is full has
// fallen behind and is disconnected with StatusPolicyViolation and ReasonBehind, the others
// carry on.
type hub struct {
	queue        int           // messages a client may have waiting
	sendBuffer   int           // socket send buffer of a client's connection, bytes (0: the OS's)
	writeTimeout time.Duration // longest a write to one client may take
	origins      []string      // extra origins allowed besides the request's own host

	mu      sync.RWMutex
	clients map[*client]struct{}
	closed  bool
	done    chan struct{}
	wg      sync.WaitGroup

	dropped atomic.Int64
}

type client struct {
	account int64 // the account whose events it receives
	msgs    chan []byte
	slow    chan struct{}
	once    sync.Once
}

// kick marks the client as fallen behind and reports whether this call did (the first one).
func (c *client) kick() bool {
	first := false
	c.once.Do(func() { close(c.slow); first = true })
	return first
}

func newHub(queue, sendBuffer int, writeTimeout time.Duration, origins []string) *hub {
	return &hub{
		queue: queue, sendBuffer: sendBuffer, writeTimeout: writeTimeout, origins: origins,
		clients: map[*client]struct{}{}, done: make(chan struct{}),
	}
}

// broadcast queues msg, an event of the account, for every client of that account, kicking
// those whose queue is full. It never blocks.
func (h *hub) broadcast(account int64, msg []byte) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.clients {
		if c.account != account {
			continue
		}
		select {
		case c.msgs <- msg:
		default:
			if c.kick() { // counted here, when it happens, whatever its writer is doing
				h.dropped.Add(1)
			}
		}
	}
}

func (h *hub) len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

func (h *hub) add(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.clients[c] = struct{}{}
	h.wg.Add(1)
	return true
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	h.wg.Done()
}

// close disconnects every client with ReasonShutdown and waits for their writers, or for ctx.
func (h *hub) close(ctx context.Context) error {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
	h.mu.Unlock()
	waited := make(chan struct{})
	go func() { h.wg.Wait(); close(waited) }()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

type connKey struct{}

// serveWS upgrades the request of a client of the account (authenticated by the caller) and runs the client's writer until it disconnects, falls behind
// or the hub closes. The origin is checked by websocket.Accept: the request's own host, plus
// h.origins.
func (h *hub) serveWS(w http.ResponseWriter, r *http.Request, account int64) {
	// The server's read deadline (ReadTimeout) would also cut the hijacked connection.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	// Register before the handshake completes, so that a client whose dial has returned gets
	// every event accepted from then on.
	c := &client{account: account, msgs: make(chan []byte, h.queue), slow: make(chan struct{})}
	if !h.add(c) {
		http.Error(w, ReasonShutdown, http.StatusServiceUnavailable)
		return
	}
	defer h.remove(c)
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.origins})
	if err != nil {
		return // Accept wrote the error response
	}
	if tcp, ok := r.Context().Value(connKey{}).(*net.TCPConn); ok && h.sendBuffer > 0 {
		tcp.SetWriteBuffer(h.sendBuffer) // bound what the kernel holds for a slow client too
	}
	h.write(conn, c)
}

// write sends the client's messages until it ends; it always closes conn.
func (h *hub) write(conn *websocket.Conn, c *client) {
	gone := conn.CloseRead(context.Background()) // done when the client closes or sends data
	for {
		select {
		case <-c.slow: // a full queue wins over the messages still in it
			conn.Close(websocket.StatusPolicyViolation, ReasonBehind)
			return
		default:
		}
		select {
		case <-c.slow:
			conn.Close(websocket.StatusPolicyViolation, ReasonBehind)
			return
		case <-h.done:
			conn.Close(websocket.StatusGoingAway, ReasonShutdown)
			return
		case <-gone.Done():
			conn.CloseNow()
			return
		case msg := <-c.msgs:
			ctx, cancel := context.WithTimeout(gone, h.writeTimeout)
			err := conn.Write(ctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				// A write that outlasted writeTimeout is a client fallen behind too (counted
				// once, however it was found); one that left is not. A timed-out write leaves
				// the connection unusable: no close frame can follow it.
				if gone.Err() == nil && c.kick() {
					h.dropped.Add(1)
				}
				conn.CloseNow()
				return
			}
		}
	}
}
