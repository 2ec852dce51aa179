package main

import (
	"context"
	"net"
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

// In JetStream mode, the answers are 202 and queued: load counts them as acknowledged, waits for
// them to be stored and checks exactly-once as in the other designs.
func TestLoadAgainstJetStreamMode(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, DisableJetStreamBanner: true, Username: "siem", Password: "pw"})
	require.NoError(t, err)
	ns.Start()
	require.True(t, ns.ReadyForConnections(10*time.Second))
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	db := filepath.Join(t.TempDir(), "siem.db")
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, service.Config{DB: db, NATS: ns.ClientURL(), NATSUser: "siem", NATSPassword: "pw"})
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
	assert.Contains(t, out.String(), "JetStream mode: 200 of the accepted events queued")
	assert.Contains(t, out.String(), "database: 200 acknowledged: 0 missing, 0 duplicated, 0 stored unacknowledged")
}

func TestLoadRefusesNonLoopback(t *testing.T) {
	var out, errb strings.Builder
	assert.Equal(t, 2, run([]string{"-addr", "192.0.2.1:80", "-key", "k"}, &out, &errb))
	assert.Contains(t, errb.String(), "only loopback addresses are allowed")
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-addr", "nope", "-key", "k"}, &out, &errb))
	assert.Contains(t, errb.String(), `-addr "nope"`)
}
