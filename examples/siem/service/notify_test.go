package service_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// smtpSink is a minimal SMTP server on 127.0.0.1 that accepts every mail and hands its DATA to
// mails. It serves one connection at a time and stops at cleanup.
func smtpSink(t *testing.T) (addr string, mails <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	out := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			serveSMTP(c, out)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), out
}

func serveSMTP(c net.Conn, out chan<- string) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(s string) { c.Write([]byte(s + "\r\n")) }
	say("220 sink ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 sink")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			out <- b.String()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default: // MAIL, RCPT, RSET, NOOP
			say("250 ok")
		}
	}
}

// With SMTP configured, an alert is both recorded and mailed; an event under the threshold is
// neither.
func TestSMTPNotifier(t *testing.T) {
	addr, mails := smtpSink(t)
	e := start(t, service.Config{AlertThreshold: 7,
		SMTP: &service.SMTPNotifier{Addr: addr, From: "siem@localhost", To: []string{"soc@localhost"}}})
	code, res, text := e.post(t, e.key, ndjson(event("quiet", 6, "below"), event("loud", 7, "root login from a new country")))
	require.Equal(t, http.StatusOK, code, text)
	require.Len(t, res, 2)
	assert.Equal(t, service.StatusAccepted, res[0].Status, res[0].Reason)
	assert.Equal(t, service.StatusAccepted, res[1].Status, res[1].Reason)

	require.Len(t, mails, 1, "one mail, for the event at the threshold")
	mail := <-mails
	assert.Contains(t, mail, "Subject: [SIEM high] test from demo")
	assert.Contains(t, mail, "To: soc@localhost")
	assert.Contains(t, mail, "Event "+res[1].UID+", severity 7")
	assert.Contains(t, mail, "root login from a new country")
	assert.Equal(t, []string{res[1].UID}, e.strings(t, `SELECT event_uid FROM alerts`))
}

// A mail server that cannot be reached fails the alerting event, which is then not persisted.
func TestSMTPNotifierUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	e := start(t, service.Config{AlertThreshold: 7,
		SMTP: &service.SMTPNotifier{Addr: addr, From: "siem@localhost", To: []string{"soc@localhost"}}})
	code, res, text := e.post(t, e.key, ndjson(event("loud", 9, "x"), event("quiet", 1, "y")))
	require.Equal(t, http.StatusOK, code, text)
	assert.Equal(t, service.StatusFailed, res[0].Status)
	assert.Contains(t, res[0].Reason, "stage alert: mail alert to "+addr)
	assert.Equal(t, service.StatusAccepted, res[1].Status)
	assert.Equal(t, []string{"quiet"}, e.strings(t, `SELECT ref FROM events`))
}
