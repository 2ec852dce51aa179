package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// process is the service running as a separate process of this test binary.
type process struct {
	cmd    *exec.Cmd
	url    string
	key    string
	out    *strings.Builder // the rest of stdout, once it has ended
	outEnd chan struct{}
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), runMainEnv+"="+strings.Join(args, runMainSep))
	var logs strings.Builder // the service logs every alert: shown only if the test fails
	cmd.Stderr = &logs
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service stderr:\n%s", logs.String())
		}
	})
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &process{cmd: cmd, out: &strings.Builder{}, outEnd: make(chan struct{})}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() { // up to the key line, which says the service is listening
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "dashboard: "); ok {
			p.url = strings.TrimSuffix(u, "/")
		}
		if _, k, ok := strings.Cut(line, "only its hash is stored): "); ok {
			p.key = k
			break
		}
		if strings.HasPrefix(line, "demo API key: printed at the first start") {
			break
		}
	}
	require.NotEmpty(t, p.url, "the service printed its URL")
	go func() {
		defer close(p.outEnd)
		for sc.Scan() {
			p.out.WriteString(sc.Text() + "\n")
		}
	}()
	return p
}

// post sends one request of events and returns the refs the service acknowledged as accepted;
// an error if the request could not be made (the service has stopped listening).
func post(c *http.Client, url, key string, refs []string) ([]string, error) {
	var b strings.Builder
	for _, ref := range refs {
		fmt.Fprintf(&b, `{"ref":%q,"type":"burst","severity":%d,"message":"m"}`+"\n", ref, len(ref)%11)
	}
	req, err := http.NewRequest(http.MethodPost, url+"/events", strings.NewReader(b.String()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		text, _ := io.ReadAll(res.Body)
		return nil, fmt.Errorf("status %d: %s", res.StatusCode, text)
	}
	var acked []string
	dec := json.NewDecoder(res.Body)
	for {
		var r service.Result
		if err := dec.Decode(&r); err == io.EOF {
			return acked, nil
		} else if err != nil {
			return acked, err // a cut stream: what was read is acknowledged
		}
		if r.Status == service.StatusAccepted {
			acked = append(acked, r.Ref)
		}
	}
}

// SIGTERM in the middle of a burst: the service stops taking requests, finishes those it took,
// and every event it acknowledged is in the database exactly once; nothing else is.
func TestSIGTERMKeepsEveryAcknowledgedEvent(t *testing.T) {
	for _, design := range []string{service.DesignGroup, service.DesignPipe} {
		t.Run(design, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "siem.db")
			p := startProcess(t, "-addr", "127.0.0.1:0", "-db", db, "-design", design)

			const clients, maxRequests, perRequest = 8, 50, 40
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			var (
				mu       sync.Mutex
				acked    []string
				answered = make(chan struct{}, clients*maxRequests)
				wg       sync.WaitGroup
			)
			for w := range clients {
				wg.Go(func() {
					for r := range maxRequests {
						refs := make([]string, perRequest)
						for i := range refs {
							refs[i] = fmt.Sprintf("c%d-r%d-e%d", w, r, i)
						}
						got, err := post(c, p.url, p.key, refs)
						mu.Lock()
						acked = append(acked, got...)
						mu.Unlock()
						if err != nil {
							return // the service has stopped listening
						}
						answered <- struct{}{}
					}
				})
			}
			for range 2 * clients { // mid-burst: some requests answered, others in flight
				<-answered
			}
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
			wg.Wait()
			require.NoError(t, p.cmd.Wait(), "the service exits cleanly")
			<-p.outEnd
			assert.Contains(t, p.out.String(), "siem: stopped")

			mu.Lock()
			defer mu.Unlock()
			require.Less(t, len(acked), clients*maxRequests*perRequest, "the burst was cut by SIGTERM")
			counts := countRefs(t, db)
			for _, ref := range acked {
				assert.Equal(t, 1, counts[ref], "acknowledged %s is stored exactly once", ref)
			}
			assert.Len(t, counts, len(acked), "nothing unacknowledged is stored")
		})
	}
}

func countRefs(t *testing.T, path string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT ref, COUNT(*) FROM events GROUP BY ref`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var ref string
		var n int
		require.NoError(t, rows.Scan(&ref, &n))
		out[ref] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// Flags: help exits 0, a bad flag or design exits non-zero with a message.
func TestRunFlags(t *testing.T) {
	var out, errb strings.Builder
	assert.Equal(t, 0, run([]string{"-h"}, &out, &errb))
	assert.Contains(t, errb.String(), "-design")

	errb.Reset()
	assert.Equal(t, 2, run([]string{"-nope"}, &out, &errb))
	assert.Contains(t, errb.String(), "flag provided but not defined: -nope")

	errb.Reset()
	db := filepath.Join(t.TempDir(), "x.db")
	assert.Equal(t, 1, run([]string{"-db", db, "-design", "actors", "-addr", "127.0.0.1:0"}, &out, &errb))
	assert.Contains(t, errb.String(), `unknown design "actors"`)
}

// A second start on the same database prints no key (only its hash is stored) unless asked
// with -new-key; the keys of every start work.
func TestKeysAcrossStarts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "siem.db")
	var keys []string
	for start, args := range [][]string{{}, {}, {"-new-key"}} {
		p := startProcess(t, append([]string{"-addr", "127.0.0.1:0", "-db", db}, args...)...)
		if p.key != "" {
			keys = append(keys, p.key)
		}
		for i, k := range keys {
			acked, err := post(http.DefaultClient, p.url, k, []string{fmt.Sprintf("start%d-key%d", start, i)})
			require.NoError(t, err)
			assert.Len(t, acked, 1)
		}
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(t, p.cmd.Wait())
		<-p.outEnd
	}
	require.Len(t, keys, 2, "a key at the first start and with -new-key, none at the second")
	assert.NotEqual(t, keys[0], keys[1])
}

// SIGTERM while the mail server hangs (it takes the connection and never answers): the alerting
// event was answered at once, and the service exits cleanly within seconds, its alert left in
// the outbox for the next start.
func TestSIGTERMWithMailServerHanging(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hung := make(chan net.Conn, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hung <- c // held open, never a word
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for len(hung) > 0 {
			(<-hung).Close()
		}
	})
	db := filepath.Join(t.TempDir(), "siem.db")
	p := startProcess(t, "-addr", "127.0.0.1:0", "-db", db, "-smtp-addr", ln.Addr().String(), "-smtp-to", "soc@localhost")
	c := &http.Client{Timeout: 5 * time.Second}
	acked, err := post(c, p.url, p.key, []string{"critical-0123456789"}) // severity 19 % 11 = 8
	require.NoError(t, err, "answered within 5 s while the mail server hangs")
	require.Equal(t, []string{"critical-0123456789"}, acked)
	select {
	case <-hung:
	case <-time.After(10 * time.Second):
		t.Fatal("the service did not try to mail within 10 s")
	}
	signalled := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "the service exits cleanly")
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after SIGTERM, with the mail server hanging")
	}
	t.Logf("exited %v after SIGTERM", time.Since(signalled).Round(time.Millisecond))
	<-p.outEnd
	dbh, err := sql.Open("sqlite", "file:"+db)
	require.NoError(t, err)
	defer dbh.Close()
	var events, pending int
	require.NoError(t, dbh.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&events))
	require.NoError(t, dbh.QueryRow(`SELECT COUNT(*) FROM alerts WHERE sent_at IS NULL`).Scan(&pending))
	assert.Equal(t, 1, events)
	assert.Equal(t, 1, pending, "the alert waits in the outbox")
}

// -threshold 0 alerts on every event; a threshold out of range is refused.
func TestThresholdFlag(t *testing.T) {
	var out, errb strings.Builder
	db := filepath.Join(t.TempDir(), "x.db")
	assert.Equal(t, 2, run([]string{"-db", db, "-threshold", "11"}, &out, &errb))
	assert.Contains(t, errb.String(), "-threshold 11: want 0 to 10")

	p := startProcess(t, "-addr", "127.0.0.1:0", "-db", db, "-threshold", "0")
	acked, err := post(http.DefaultClient, p.url, p.key, []string{"sev-0-ref"}) // 9 % 11 = 9; and:
	require.NoError(t, err)
	require.Len(t, acked, 1)
	acked, err = post(http.DefaultClient, p.url, p.key, []string{"abcdefghijk"}) // 11 % 11 = 0
	require.NoError(t, err)
	require.Len(t, acked, 1)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.cmd.Wait())
	<-p.outEnd
	dbh, err := sql.Open("sqlite", "file:"+db)
	require.NoError(t, err)
	defer dbh.Close()
	var alerts int
	require.NoError(t, dbh.QueryRow(`SELECT COUNT(*) FROM alerts a JOIN events e ON e.uid = a.event_uid WHERE e.severity = 0`).Scan(&alerts))
	assert.Equal(t, 1, alerts, "a severity-0 event alerts at -threshold 0")
}

// A start that fails after it could have made the database (the port taken, NATS down) leaves
// no demo account behind: the next start prints the key.
func TestFailedStartKeepsTheDemoKey(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0") // a port nothing listens on once closed
	require.NoError(t, err)
	natsDown := "nats://" + closed.Addr().String()
	require.NoError(t, closed.Close())
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"port in use", []string{"-addr", taken.Addr().String()}, "address already in use"},
		{"NATS down", []string{"-addr", "127.0.0.1:0", "-nats", natsDown}, "connect to " + natsDown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "siem.db")
			var out, errb strings.Builder
			assert.Equal(t, 1, run(append([]string{"-db", db}, tt.args...), &out, &errb))
			assert.Contains(t, errb.String(), tt.want)
			assert.NotContains(t, out.String(), "demo API key", "no key shown by a failed start")
			p := startProcess(t, "-addr", "127.0.0.1:0", "-db", db)
			assert.NotEmpty(t, p.key, "the next start shows the demo key")
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
			require.NoError(t, p.cmd.Wait())
			<-p.outEnd
		})
	}
}

// notifyFunc is a Notifier of the test's.
type notifyFunc func(context.Context, service.Alert) error

func (f notifyFunc) Notify(ctx context.Context, a service.Alert) error { return f(ctx, a) }

// An instance killed (SIGKILL) while it holds an alert's lease, its mail hanging, leaves the
// alert pending: another instance on the database delivers it once the lease has ended (the
// second instance's clock is set past it, 2 x AlertTimeout, instead of waiting 2 min), as the
// alert's second attempt.
func TestKilledSenderLeavesTheAlertToAnother(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hung := make(chan net.Conn, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hung <- c // held open, never a word
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for len(hung) > 0 {
			(<-hung).Close()
		}
	})
	db := filepath.Join(t.TempDir(), "siem.db")
	p := startProcess(t, "-addr", "127.0.0.1:0", "-db", db, "-smtp-addr", ln.Addr().String(), "-smtp-to", "soc@localhost")
	acked, err := post(&http.Client{Timeout: 5 * time.Second}, p.url, p.key, []string{"critical-0123456789"}) // severity 8
	require.NoError(t, err)
	require.Len(t, acked, 1)
	select {
	case <-hung: // the sender has claimed the alert and is mailing it
	case <-time.After(10 * time.Second):
		t.Fatal("the service did not try to mail within 10 s")
	}
	require.NoError(t, p.cmd.Process.Kill())
	p.cmd.Wait()
	dbh, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer dbh.Close()
	var uid string
	var leaseUntil int64
	require.NoError(t, dbh.QueryRow(`SELECT event_uid, lease_until FROM alerts WHERE sent_at IS NULL`).Scan(&uid, &leaseUntil))
	require.Greater(t, leaseUntil, time.Now().UnixMilli(), "the dead instance's lease holds")

	got := make(chan service.Alert, 4)
	svc, err := service.New(t.Context(), service.Config{DB: db,
		Now:      func() time.Time { return time.Now().Add(3 * time.Minute) }, // past the lease
		Notifier: notifyFunc(func(_ context.Context, a service.Alert) error { got <- a; return nil })})
	require.NoError(t, err)
	select {
	case a := <-got:
		assert.Equal(t, uid, a.EventUID)
		assert.Equal(t, 2, a.Attempt, "the killed instance's attempt is counted")
	case <-time.After(10 * time.Second):
		t.Fatal("the other instance did not deliver the alert within 10 s")
	}
	require.NoError(t, svc.Close(t.Context()))
	assert.Empty(t, got, "delivered once")
	var pending int
	require.NoError(t, dbh.QueryRow(`SELECT COUNT(*) FROM alerts WHERE sent_at IS NULL`).Scan(&pending))
	assert.Zero(t, pending)
}
