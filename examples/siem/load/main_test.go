package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLoadAgainstTheService(t *testing.T) {
	db := filepath.Join(t.TempDir(), "siem.db")
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, service.Config{DB: db})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	var out, errb strings.Builder
	code := run([]string{"-addr", ln.Addr().String(), "-key", svc.DemoKey(), "-n", "200", "-c", "4", "-db", db}, &out, &errb)
	assert.Equal(t, 0, code, out.String()+errb.String())
	assert.Contains(t, out.String(), "200 events, 4 clients, 10 a request: 200 accepted, 0 rejected, 0 failed; 20 requests, 0 errors")
	assert.Contains(t, out.String(), "database: 200 acknowledged: 0 missing, 0 duplicated, 0 stored unacknowledged")

	out.Reset()
	code = run([]string{"-addr", ln.Addr().String(), "-key", "wrong", "-n", "20"}, &out, &errb)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), "first error: status 401")
}

// jetStreamService starts an embedded NATS server and a service in JetStream mode on it.
func jetStreamService(t *testing.T) (addr, key, db string) {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, DisableJetStreamBanner: true, Username: "siem", Password: "pw"})
	require.NoError(t, err)
	ns.Start()
	require.True(t, ns.ReadyForConnections(10*time.Second))
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	db = filepath.Join(t.TempDir(), "siem.db")
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, service.Config{DB: db, NATS: ns.ClientURL(), NATSUser: "siem", NATSPassword: "pw"})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return ln.Addr().String(), svc.DemoKey(), db
}

// In JetStream mode, the answers are 202 and queued: load counts them as acknowledged, waits for
// them to be stored and checks exactly-once as in the other designs (issue 18 item 8: it used
// to count every 202 as an error and exit 1).
func TestLoadAgainstJetStreamMode(t *testing.T) {
	addr, key, db := jetStreamService(t)
	var out, errb strings.Builder
	code := run([]string{"-addr", addr, "-key", key, "-n", "200", "-c", "4", "-db", db}, &out, &errb)
	assert.Equal(t, 0, code, out.String()+errb.String())
	assert.Contains(t, out.String(), "200 events, 4 clients, 10 a request: 200 accepted, 0 rejected, 0 failed; 20 requests, 0 errors")
	assert.Contains(t, out.String(), "JetStream mode: 200 of the accepted events queued")
	assert.Contains(t, out.String(), "database: 200 acknowledged: 0 missing, 0 duplicated, 0 stored unacknowledged")
}

// The open loop against JetStream mode counts the 202 answers as acknowledged too.
func TestOpenLoopAgainstJetStreamMode(t *testing.T) {
	addr, key, db := jetStreamService(t)
	var out, errb strings.Builder
	code := run([]string{"-addr", addr, "-key", key, "-rate", "50", "-duration", "400ms", "-arrivals", "constant",
		"-c", "4", "-db", db}, &out, &errb)
	assertOpenExit(t, code, out.String()+errb.String())
	assert.Contains(t, out.String(), "200 events, 4 connections, open loop, 10 a request: 200 accepted, 0 rejected, 0 failed; 20 requests, 0 errors")
	assert.Contains(t, out.String(), "JetStream mode: 200 of the accepted events queued")
	assert.Contains(t, out.String(), "target 50 requests/s (constant, 400ms): 20 scheduled, offered 50.0/s")
	assert.Contains(t, out.String(), "database: 200 acknowledged: 0 missing, 0 duplicated, 0 stored unacknowledged")
}

// assertOpenExit checks an open-loop run's exit code against its output: 1 if and only if it
// says the rate was not reached (whether it is depends on the machine), with nothing else wrong.
func assertOpenExit(t *testing.T, code int, out string) {
	t.Helper()
	if strings.Contains(out, "NOT REACHED") {
		assert.Equal(t, 1, code, out)
		assert.NotContains(t, out, "p99", "no latency for a rate not reached")
	} else {
		assert.Equal(t, 0, code, out)
		assert.Contains(t, out, ": reached; latency from the scheduled start p50 ")
	}
}

func TestOpenLoopAgainstTheService(t *testing.T) {
	for _, design := range []string{service.DesignGroup, service.DesignPipe} {
		t.Run(design, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "siem.db")
			ctx, cancel := context.WithCancel(context.Background())
			svc, err := service.New(ctx, service.Config{DB: db, Design: design})
			require.NoError(t, err)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- svc.Serve(ctx, ln) }()
			t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

			var out, errb strings.Builder
			code := run([]string{"-addr", ln.Addr().String(), "-key", svc.DemoKey(), "-rate", "100", "-duration", "300ms",
				"-c", "4", "-batch", "5", "-db", db}, &out, &errb)
			assertOpenExit(t, code, out.String()+errb.String())
			assert.Contains(t, out.String(), "target 100 requests/s (poisson, 300ms): ")
			assert.Contains(t, out.String(), " accepted, 0 rejected, 0 failed; ")
			assert.Contains(t, out.String(), " 0 errors\n")
			assert.Contains(t, out.String(), " 0 missing, 0 duplicated, 0 stored unacknowledged")
		})
	}
}

// A service that does not answer within the run: every request but the ones in flight is left
// unsent, and the run says the rate was not reached, gives no latency, and exits 1.
func TestOpenLoopReportsNotReached(t *testing.T) {
	release := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select { // until the load generator gives up, or the test ends
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(stuck.Close)
	t.Cleanup(func() { close(release) }) // first: cleanups run last in, first out
	var out, errb strings.Builder
	code := run([]string{"-addr", strings.TrimPrefix(stuck.URL, "http://"), "-key", "k", "-rate", "200", "-duration", "100ms",
		"-arrivals", "constant", "-c", "2", "-timeout", "300ms"}, &out, &errb)
	assert.Equal(t, 1, code, out.String()+errb.String())
	assert.Contains(t, out.String(), "200 events, 2 connections, open loop, 10 a request: 0 accepted, 0 rejected, 0 failed; 0 requests, 2 errors")
	assert.Contains(t, out.String(), "target 200 requests/s (constant, 100ms): 20 scheduled, offered 200.0/s, achieved 0.0/s by the end of the arrivals; 0 events/s over ")
	assert.Contains(t, out.String(), ", 18 unsent when the run ended: NOT REACHED (0% of offered, below 95%)")
	assert.NotContains(t, out.String(), "p99")
}

func TestLoadRefusesNonLoopback(t *testing.T) {
	var out, errb strings.Builder
	assert.Equal(t, 2, run([]string{"-addr", "192.0.2.1:80", "-key", "k"}, &out, &errb))
	assert.Contains(t, errb.String(), "only loopback addresses are allowed")
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-addr", "nope", "-key", "k"}, &out, &errb))
	assert.Contains(t, errb.String(), `-addr "nope"`)
}
