package service_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// smallReadBuffer dials websockets whose TCP receive buffer is 64 KiB, so that a client that
// stops reading fills up the server's side quickly.
func smallReadBuffer() *websocket.DialOptions {
	d := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			err = c.(*net.TCPConn).SetReadBuffer(64 << 10)
		}
		return c, err
	}}
	return &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}}
}

// A client that never reads is disconnected with its close reason once its queue is full;
// intake completes and every other client receives every event.
func TestStuckClientDoesNotStallIntake(t *testing.T) {
	for _, design := range designs {
		t.Run(design, func(t *testing.T) {
			const queue, requests, perRequest = 512, 8, 250
			// A long write timeout: the stuck client's writer may wait in a write for the
			// whole burst, and must still be there to send the close reason at the end.
			e := start(t, service.Config{Design: design, ClientQueue: queue, ClientBuffer: 64 << 10, WriteTimeout: 5 * time.Minute})
			stuck := e.dial(t, smallReadBuffer())
			readers := []*websocket.Conn{e.dial(t, nil), e.dial(t, nil)}

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got := make([]map[string]bool, len(readers))
			for i := range got {
				got[i] = map[string]bool{}
			}
			// The readers read each request's events before the next request is posted: at most
			// one request's worth is ever queued for them, whereas the stuck client's queue only
			// grows, so which client falls behind is not a matter of scheduling.
			for r := range requests {
				var evs []string
				for i := range perRequest {
					evs = append(evs, event(fmt.Sprintf("r%d-%d", r, i), 1, strings.Repeat("x", 200)))
				}
				code, res, text := e.post(t, e.key, ndjson(evs...))
				require.Equal(t, http.StatusOK, code, text)
				require.Len(t, res, perRequest)
				for _, x := range res {
					require.Equal(t, service.StatusAccepted, x.Status, x.Reason)
				}
				for i, c := range readers {
					views, err := receive(ctx, c, perRequest)
					require.NoError(t, err, "reader %d", i)
					for _, v := range views {
						got[i][v.Ref] = true
					}
				}
			}
			for i := range readers {
				assert.Len(t, got[i], requests*perRequest, "reader %d gets every event", i)
			}

			// Now the stuck client reads: what was in flight, then its close reason.
			var err error
			n := 0
			for err == nil {
				_, _, err = stuck.Read(ctx)
				n++
			}
			var ce websocket.CloseError
			require.True(t, errors.As(err, &ce), "closed by the server, got %v", err)
			assert.Equal(t, websocket.StatusPolicyViolation, ce.Code)
			assert.Equal(t, service.ReasonBehind, ce.Reason)
			assert.Less(t, n, requests*perRequest, "it was cut off before the end")
			assert.Equal(t, int64(1), e.stats(t).Dropped, "one client dropped")
		})
	}
}

// Stopping the service closes every websocket client with StatusGoingAway and its reason.
func TestShutdownClosesWebsockets(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := service.New(ctx, service.Config{DB: t.TempDir() + "/siem.db"})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, ln) }()
	c, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String()+"/ws", &websocket.DialOptions{HTTPHeader: withKey(nil, svc.DemoKey())})
	require.NoError(t, err)
	defer c.CloseNow()

	read := make(chan error, 1)
	go func() { _, _, err := c.Read(context.Background()); read <- err }()
	cancel()
	err = <-read
	var ce websocket.CloseError
	require.True(t, errors.As(err, &ce), "closed by the server, got %v", err)
	assert.Equal(t, websocket.StatusGoingAway, ce.Code)
	assert.Equal(t, service.ReasonShutdown, ce.Reason)
	require.NoError(t, <-served)
}

// A client that stops reading is counted as dropped however it is found out: by its queue
// filling up, or by a write to it outlasting the write timeout.
func TestStuckClientIsCounted(t *testing.T) {
	e := start(t, service.Config{ClientQueue: 8, ClientBuffer: 16 << 10, WriteTimeout: 50 * time.Millisecond})
	stuck := e.dial(t, smallReadBuffer())
	var evs []string
	for i := range 200 {
		evs = append(evs, event(fmt.Sprintf("s%d", i), 1, strings.Repeat("x", 4000)))
	}
	code, _, text := e.post(t, e.key, ndjson(evs...))
	require.Equal(t, http.StatusOK, code, text)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var err error
	for n := 0; err == nil; n++ {
		_, _, err = stuck.Read(ctx)
		require.Less(t, n, 200, "the client is cut off before the end")
	}
	require.NoError(t, ctx.Err(), "the connection ends within 20 s")
	assert.Equal(t, int64(1), e.stats(t).Dropped)
	_, metrics := get(t, e.url+"/metrics")
	assert.Contains(t, metrics, "siem_ws_dropped_total 1\n")
}
