package service_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// The user and password of the tests' NATS servers, which take no connection without them.
const (
	natsUser     = "siem"
	natsPassword = "s3cret-for-tests"
)

// startNATS starts an embedded NATS server with JetStream on, on 127.0.0.1 and a free port,
// storing in a temporary directory, taking only connections with natsUser's password, and shuts
// it down at the end of the test.
func startNATS(t testing.TB) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, DisableJetStreamBanner: true,
		Username: natsUser, Password: natsPassword,
	})
	require.NoError(t, err)
	s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second), "NATS server ready")
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// authURL is the server's client URL with the tests' credentials in it.
func authURL(s *server.Server) string {
	return strings.Replace(s.ClientURL(), "nats://", "nats://"+natsUser+":"+natsPassword+"@", 1)
}

// connectJS connects the test itself to the server, to look at the stream and the consumer.
func connectJS(t testing.TB, url string) (*nats.Conn, natsjs.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	return nc, js
}

// instance is one service in JetStream mode, serving on 127.0.0.1.
type instance struct {
	svc    *service.Service
	url    string
	cancel context.CancelFunc
	served chan error
	err    error
	done   bool
}

// startInstance starts a service (cfg sets JetStream mode) serving on 127.0.0.1. Its graceful
// stop, which must succeed, is registered for the end of the test; stop ends it earlier.
func startInstance(t testing.TB, cfg service.Config) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, cfg)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	in := &instance{svc: svc, url: "http://" + ln.Addr().String(), cancel: cancel, served: make(chan error, 1)}
	go func() { in.served <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() { require.NoError(t, in.stop(), "graceful stop") })
	return in
}

// stop cancels the instance's context and waits for Serve to return; it returns Serve's error.
func (in *instance) stop() error {
	if !in.done {
		in.done = true
		in.cancel()
		in.err = <-in.served
	}
	return in.err
}

// published is one POST /events answer in JetStream mode.
type published struct {
	code    int
	header  string // Siem-Published
	results []service.Result
	text    string // the error text of a refused request
}

// post sends body to the instance's POST /events with key. It may run on any goroutine.
func (in *instance) post(key, body string) (published, error) {
	req, err := http.NewRequest(http.MethodPost, in.url+"/events", strings.NewReader(body))
	if err != nil {
		return published{}, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return published{}, err
	}
	defer res.Body.Close()
	p := published{code: res.StatusCode, header: res.Header.Get("Siem-Published")}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var r service.Result
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			p.text += sc.Text()
			continue
		}
		p.results = append(p.results, r)
	}
	return p, sc.Err()
}

// queued returns the uids of the results queued, and checks the count header.
func (p published) queued(t testing.TB) []string {
	t.Helper()
	require.Equal(t, http.StatusAccepted, p.code, p.text)
	var uids []string
	for _, r := range p.results {
		if r.Status == service.StatusQueued {
			require.NotEmpty(t, r.UID, "a queued event has its uid")
			require.NotZero(t, r.Seq, "a queued event has its stream sequence")
			uids = append(uids, r.UID)
		}
	}
	require.Equal(t, strconv.Itoa(len(uids)), p.header, "Siem-Published counts the queued events")
	return uids
}

// openDB opens the shared database file for the test's own queries.
func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// storedUIDs returns how many times each uid is stored in events.
func storedUIDs(t testing.TB, db *sql.DB) map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT uid FROM events`)
	require.NoError(t, err)
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var uid string
		require.NoError(t, rows.Scan(&uid))
		got[uid]++
	}
	require.NoError(t, rows.Err())
	return got
}

// waitStored waits until the events table holds n events, for at most the deadline.
func waitStored(t testing.TB, db *sql.DB, n int, deadline time.Duration) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(deadline)
	for {
		var got int
		require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&got))
		if got >= n {
			return
		}
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("%d events stored after %v, want %d", got, deadline, n)
		}
	}
}

// waitCount waits until the COUNT query gives want, for at most the deadline.
func waitCount(t testing.TB, db *sql.DB, query string, want int, deadline time.Duration) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(deadline)
	for {
		var got int
		require.NoError(t, db.QueryRow(query).Scan(&got))
		if got == want {
			return
		}
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("%s gives %d after %v, want %d", query, got, deadline, want)
		}
	}
}

// consumerIdle asserts that the shared consumer has nothing left to deliver or acknowledge.
func consumerIdle(t testing.TB, js natsjs.JetStream) {
	t.Helper()
	c, err := js.Consumer(context.Background(), service.DefaultStream, service.DefaultConsumer)
	require.NoError(t, err)
	info, err := c.Info(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint64(0), info.NumPending, "nothing left to deliver")
	require.Equal(t, 0, info.NumAckPending, "nothing left unacknowledged")
}
