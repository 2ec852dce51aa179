package service_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// The NATS server takes no connection without credentials; the service takes them in its URL or
// in NATSUser and NATSPassword, and never shows the password in an error.
func TestJetStreamNeedsCredentials(t *testing.T) {
	ns := startNATS(t)
	_, err := nats.Connect(ns.ClientURL())
	require.Error(t, err, "an anonymous client is refused")
	assert.ErrorIs(t, err, nats.ErrAuthorization)

	db := filepath.Join(t.TempDir(), "siem.db")
	wrong := strings.Replace(authURL(ns), natsPassword, "not-the-password", 1)
	_, err = service.New(t.Context(), service.Config{DB: db, NATS: wrong})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connect to nats://siem:xxxxx@")
	assert.NotContains(t, err.Error(), "not-the-password")

	in := startInstance(t, service.Config{DB: db, NATS: ns.ClientURL(), NATSUser: natsUser, NATSPassword: natsPassword})
	p, err := in.post(in.svc.DemoKey(), ndjson(event("c1", 1, "with credentials")))
	require.NoError(t, err)
	require.Len(t, p.queued(t), 1)
}

// rawEvent is an event as the service publishes it to the stream, for the tests that publish
// straight to NATS.
func rawEvent(account int64, uid string, severity int, typ, msg string) string {
	b, _ := json.Marshal(map[string]any{"uid": uid, "account_id": account, "type": typ, "severity": severity,
		"message": msg, "source": "nats", "received_at": time.Now().UTC()})
	return string(b)
}

// An event published straight to the stream, past POST /events, meets the same checks: an
// invalid one is dead-lettered at once with the reason, and nothing of it is stored.
func TestJetStreamInvalidEventIsDeadLettered(t *testing.T) {
	ns := startNATS(t)
	_, js := connectJS(t, authURL(ns))
	db := filepath.Join(t.TempDir(), "siem.db")
	in := startInstance(t, service.Config{DB: db, NATS: authURL(ns)})
	id, err := in.svc.DemoAccountID(t.Context())
	require.NoError(t, err)
	subject := fmt.Sprintf("%s%d", service.SubjectPrefix, id)
	uid := func(i int) string { return fmt.Sprintf("%024x", i) }
	bad := []struct{ data, want string }{
		{rawEvent(id, uid(1), 99, "t", "m"), `field "severity" is 99`},
		{rawEvent(id, uid(2), -5, "t", "m"), `field "severity" is -5`},
		{rawEvent(id, uid(3), 1, "", "m"), `missing required field "type"`},
		{rawEvent(id, uid(4), 1, "t", ""), `missing required field "message"`},
		{rawEvent(id, uid(5), 1, "x\r\nBcc: a@b.example", "m"), `field "type" has the character U+000D`},
		{rawEvent(id+1, uid(6), 1, "t", "m"), "is not that of the subject"},
		{rawEvent(id, "short", 1, "t", "m"), `uid "short" is not 24 hex digits`},
		{`{"not": "an event"}`, `unknown field "not"`},
	}
	for _, b := range bad {
		_, err := js.Publish(t.Context(), subject, []byte(b.data))
		require.NoError(t, err)
	}
	_, err = js.Publish(t.Context(), subject, []byte(rawEvent(id, uid(100), 1, "t", "a valid one")))
	require.NoError(t, err)

	dead, err := js.OrderedConsumer(t.Context(), service.DefaultStream+"_DEAD", natsjs.OrderedConsumerConfig{})
	require.NoError(t, err)
	var reasons []string
	for range bad {
		m, err := dead.Next(natsjs.FetchMaxWait(10 * time.Second))
		require.NoError(t, err, "dead letters within 10 s (%d so far)", len(reasons))
		assert.Equal(t, jetstream.ReasonDecode, m.Headers().Get(jetstream.HeaderReason))
		reasons = append(reasons, m.Headers().Get(jetstream.HeaderError))
	}
	for i, b := range bad {
		assert.Contains(t, reasons[i], b.want, "dead letter %d", i)
	}
	dbh := openDB(t, db)
	waitStored(t, dbh, 1, 10*time.Second)
	require.NoError(t, in.stop())
	assert.Equal(t, map[string]int{uid(100): 1}, storedUIDs(t, dbh), "the valid event alone is stored")
	consumerIdle(t, js)

}

// With the mail server refusing for longer than the feed would ever retry an event (more failed
// mail attempts than MaxDeliver), every queued event is stored, none is dead-lettered, and every
// alert is mailed once the server is back.
func TestJetStreamMailOutageLosesNothing(t *testing.T) {
	const n = 20
	ns := startNATS(t)
	_, js := connectJS(t, authURL(ns))
	db := filepath.Join(t.TempDir(), "siem.db")
	f := newFakeSMTP(t, smtpRefuse)
	in := startInstance(t, service.Config{DB: db, NATS: authURL(ns), AlertThreshold: 8, SMTP: mailTo(f),
		AlertRetry: time.Millisecond, AlertRetryMax: 20 * time.Millisecond})
	var evs []string
	for i := range n {
		evs = append(evs, event(fmt.Sprintf("c%d", i), 8+i%3, fmt.Sprintf("critical %d", i)))
	}
	p, err := in.post(in.svc.DemoKey(), ndjson(evs...))
	require.NoError(t, err)
	uids := p.queued(t)
	require.Len(t, uids, n)
	dbh := openDB(t, db)
	waitStored(t, dbh, n, 15*time.Second)
	for i := range 2 * 5 { // twice MaxDeliver failed attempts
		select {
		case <-f.refused:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d failed mail attempts within 10 s, want %d", i, 2*5)
		}
	}
	consumerIdle(t, js)
	st := in.svc.Stats().Stream
	assert.Zero(t, st.DeadLettered, "nothing dead-lettered")
	assert.Zero(t, st.Retried, "no event retried: mail is not in its way")

	f.setMode(smtpRecord)
	got := map[string]int{}
	for range n {
		m := nextMail(t, f, 20*time.Second)
		for _, uid := range uids {
			if strings.Contains(m, uid) {
				got[uid]++
			}
		}
	}
	for _, uid := range uids {
		assert.Equal(t, 1, got[uid], "alert of %s mailed once", uid)
	}
	waitCount(t, dbh, `SELECT COUNT(*) FROM alerts WHERE sent_at IS NULL`, 0, 10*time.Second)
	require.NoError(t, in.stop())
}

// With NATS down, a request is answered 503 with Retry-After, never "failed" for events the
// stream may have stored, and /readyz says so; once NATS is back, the same request sent again
// stores each event once, whether or not the first attempt had reached the stream. Its events
// have no ref: the service derives one.
func TestJetStreamAnswersAreTrue(t *testing.T) {
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, DisableJetStreamBanner: true, Username: natsUser, Password: natsPassword}
	ns, err := server.NewServer(opts)
	require.NoError(t, err)
	ns.Start()
	require.True(t, ns.ReadyForConnections(10*time.Second))
	opts.Port = ns.Addr().(*net.TCPAddr).Port // the restarted server listens where the first did
	url := authURL(ns)
	db := filepath.Join(t.TempDir(), "siem.db")
	in := startInstance(t, service.Config{DB: db, NATS: url, PublishTimeout: 500 * time.Millisecond})
	key := in.svc.DemoKey()
	body := ndjson(`{"type":"t","severity":3,"message":"no ref 1"}`, `{"type":"t","severity":3,"message":"no ref 2"}`)
	code, _ := getStatus(t, in.url+"/readyz")
	assert.Equal(t, http.StatusOK, code, "ready with NATS up")

	ns.Shutdown()
	ns.WaitForShutdown()
	code, text := getStatus(t, in.url+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "not ready with NATS down")
	assert.Contains(t, text, "NATS connection")
	req, err := http.NewRequest(http.MethodPost, in.url+"/events", strings.NewReader(body))
	require.NoError(t, err)
	req.Header = withKey(nil, key)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, "2", res.Header.Get("Retry-After"))

	ns2, err := server.NewServer(opts)
	require.NoError(t, err)
	ns2.Start()
	require.True(t, ns2.ReadyForConnections(10*time.Second))
	t.Cleanup(func() { ns2.Shutdown(); ns2.WaitForShutdown() })
	var p published
	for deadline := time.Now().Add(20 * time.Second); ; {
		p, err = in.post(key, body)
		require.NoError(t, err)
		if p.code == http.StatusAccepted {
			break
		}
		require.Equal(t, http.StatusServiceUnavailable, p.code, p.text)
		require.True(t, time.Now().Before(deadline), "NATS back: the retry is taken within 20 s")
	}
	for _, r := range p.results {
		assert.Contains(t, []string{service.StatusQueued, service.StatusRejected}, r.Status, r.Reason)
		assert.True(t, strings.HasPrefix(r.Ref, "~"), "a derived ref: %q", r.Ref)
	}
	// Sent once more: both are duplicates now.
	again, err := in.post(key, body)
	require.NoError(t, err)
	for _, r := range again.results {
		assert.Equal(t, service.StatusRejected, r.Status)
	}
	dbh := openDB(t, db)
	waitStored(t, dbh, 2, 15*time.Second)
	require.NoError(t, in.stop())
	assert.Len(t, storedUIDs(t, dbh), 2, "each event stored once")
}

// getStatus returns the status code and body of a GET.
func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	var b strings.Builder
	_, err = io.Copy(&b, res.Body)
	require.NoError(t, err)
	return res.StatusCode, b.String()
}
