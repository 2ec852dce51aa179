package service_test

import (
	"context"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// mailTo configures the service to mail its alerts to f.
func mailTo(f *fakeSMTP) *service.SMTPNotifier {
	return &service.SMTPNotifier{Addr: f.addr, From: "siem@localhost", To: []string{"soc@localhost"}}
}

// nextMail waits for the next recorded mail, for at most d.
func nextMail(t *testing.T, f *fakeSMTP, d time.Duration) string {
	t.Helper()
	select {
	case m := <-f.mails:
		return m
	case <-time.After(d):
		t.Fatalf("no mail within %v", d)
		return ""
	}
}

// With the mail server refusing every connection, events are accepted and stored all the same;
// once it is back, every alert is mailed, once.
func TestMailOutageDelaysMailNotEvents(t *testing.T) {
	for _, design := range designs {
		t.Run(design, func(t *testing.T) {
			f := newFakeSMTP(t, smtpRefuse)
			e := start(t, service.Config{Design: design, AlertThreshold: 8, SMTP: mailTo(f),
				AlertRetry: time.Millisecond, AlertRetryMax: 20 * time.Millisecond})
			code, res, text := e.post(t, e.key, ndjson(event("c1", 9, "one"), event("l1", 2, "low"),
				event("c2", 10, "two"), event("c3", 8, "three")))
			require.Equal(t, http.StatusOK, code, text)
			uids := map[string]bool{}
			for _, r := range res {
				require.Equal(t, service.StatusAccepted, r.Status, "event %s: %s", r.Ref, r.Reason)
				if r.Ref != "l1" {
					uids[r.UID] = true
				}
			}
			assert.Equal(t, 4, e.count(t, `SELECT COUNT(*) FROM events`), "every event stored while mail is down")
			for range 3 { // the sender keeps trying
				select {
				case <-f.refused:
				case <-time.After(10 * time.Second):
					t.Fatal("the sender did not retry within 10 s")
				}
			}
			_, metrics := get(t, e.url+"/metrics")
			assert.NotContains(t, metrics, "siem_alerts_failed_total 0\n", "each failed attempt is counted")
			assert.Contains(t, metrics, "siem_alerts_pending 3\n")
			f.setMode(smtpRecord)
			got := map[string]int{}
			for range len(uids) {
				m := nextMail(t, f, 20*time.Second)
				for uid := range uids {
					if strings.Contains(m, uid) {
						got[uid]++
					}
				}
			}
			for uid := range uids {
				assert.Equal(t, 1, got[uid], "alert of %s mailed once", uid)
			}
		})
	}
}

// A mail server that accepts connections and never answers does not hold up events, of any
// severity, and the service stops within its shutdown deadline all the same.
func TestHangingMailServerStallsNothing(t *testing.T) {
	f := newFakeSMTP(t, smtpHang)
	cfg := service.Config{AlertThreshold: 8, SMTP: mailTo(f)}
	cfg.DB = t.TempDir() + "/siem.db"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := service.New(ctx, cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, ln) }()
	e := &env{svc: svc, url: "http://" + ln.Addr().String(), key: svc.DemoKey(), db: cfg.DB}

	client := &http.Client{Timeout: 5 * time.Second}
	for i, body := range []string{ndjson(event("crit", 10, "root shell")), ndjson(event("low", 1, "ping"))} {
		req, err := http.NewRequest(http.MethodPost, e.url+"/events", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+e.key)
		res, err := client.Do(req)
		require.NoError(t, err, "request %d answered within 5 s while the mail server hangs", i)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	select {
	case <-f.hung:
	case <-time.After(10 * time.Second):
		t.Fatal("the sender did not connect to the mail server within 10 s")
	}
	stopped := time.Now()
	cancel()
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10 s of its context's end, with the mail server hanging")
	}
	t.Logf("stopped in %v", time.Since(stopped))
	assert.Equal(t, 2, e.count(t, `SELECT COUNT(*) FROM events`))
	assert.Equal(t, 1, e.count(t, `SELECT COUNT(*) FROM alerts WHERE sent_at IS NULL AND lease_until = 0`),
		"the alert whose mail was abandoned waits for the next start, not leased")
}

// A retry of a stored ref raises no second alert: the sender mails each alert in order, so once
// the third event's mail has come, a mail for the retry would have come before it.
func TestRetriedRefAlertsOnce(t *testing.T) {
	f := newFakeSMTP(t, smtpRecord)
	e := start(t, service.Config{AlertThreshold: 8, SMTP: mailTo(f)})
	_, first, _ := e.post(t, e.key, ndjson(event("r", 9, "first")))
	require.Equal(t, service.StatusAccepted, first[0].Status)
	_, again, _ := e.post(t, e.key, ndjson(event("r", 9, "first")))
	require.Equal(t, service.StatusRejected, again[0].Status)
	_, third, _ := e.post(t, e.key, ndjson(event("s", 9, "third")))
	require.Equal(t, service.StatusAccepted, third[0].Status)

	var mails []string
	for {
		m := nextMail(t, f, 20*time.Second)
		mails = append(mails, m)
		if strings.Contains(m, third[0].UID) {
			break
		}
	}
	assert.Len(t, mails, 2, "one mail for r, one for s")
	assert.Contains(t, mails[0], first[0].UID)
	assert.Equal(t, 2, e.count(t, `SELECT COUNT(*) FROM alerts`), "one alert row each")
}

// No field of an event reaches a mail header unencoded: a CR LF in a field is refused, and the
// recorded mail has exactly the headers the service writes.
func TestMailHeadersFromNoField(t *testing.T) {
	f := newFakeSMTP(t, smtpRecord)
	e := start(t, service.Config{AlertThreshold: 8, SMTP: mailTo(f)})
	code, _, text := e.post(t, e.key, ndjson(`{"ref":"inj","type":"x\r\nBcc: victim@example.com","severity":9,"message":"m"}`))
	assert.Equal(t, http.StatusBadRequest, code, "a CR LF in type is refused")
	assert.Contains(t, text, `field "type"`)

	code, res, text := e.post(t, e.key, ndjson(`{"ref":"utf","type":"connexion échouée","severity":9,"message":"Zoë: 5 échecs"}`))
	require.Equal(t, http.StatusOK, code, text)
	require.Equal(t, service.StatusAccepted, res[0].Status, res[0].Reason)
	raw := nextMail(t, f, 20*time.Second)
	m, err := mail.ReadMessage(strings.NewReader(raw))
	require.NoError(t, err, "the mail parses: %q", raw)
	var names []string
	for k := range m.Header {
		names = append(names, k)
	}
	assert.ElementsMatch(t, []string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version",
		"Content-Type", "Content-Transfer-Encoding"}, names, "the service's headers and no others")
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "[SIEM critical] connexion échouée from demo", subject)
	assert.NotContains(t, m.Header.Get("Subject"), "é", "the subject is encoded")
}
