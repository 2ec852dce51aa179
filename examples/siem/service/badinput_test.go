package service_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// Every bad request is refused whole, with a message naming the problem, and nothing of it is
// persisted: each body below starts with a good event.
func TestBadInput(t *testing.T) {
	e := start(t, service.Config{MaxBody: 2048, MaxEvents: 3})
	forbidden, err := e.svc.CreateAccount(context.Background(), "muted", "Muted Org", false)
	require.NoError(t, err)
	good := event("good", 9, "a good event first")
	tests := []struct {
		name     string
		key      string
		give     string
		wantCode int
		wantText string
	}{
		{"malformed JSON", e.key, good + "\n{\"type\":", http.StatusBadRequest, `event 1: malformed JSON`},
		{"malformed array", e.key, "[" + good + ",]", http.StatusBadRequest, `event 1: malformed JSON`},
		{"unknown field", e.key, ndjson(good, `{"type":"t","severity":1,"message":"m","colour":"red"}`), http.StatusBadRequest, `event 1: malformed JSON: json: unknown field "colour"`},
		{"missing type", e.key, ndjson(good, `{"severity":1,"message":"m"}`), http.StatusBadRequest, `event 1: missing required field "type"`},
		{"missing severity", e.key, ndjson(good, `{"type":"t","message":"m"}`), http.StatusBadRequest, `event 1: missing required field "severity"`},
		{"missing message", e.key, ndjson(good, `{"type":"t","severity":1}`), http.StatusBadRequest, `event 1: missing required field "message"`},
		{"severity out of range", e.key, ndjson(good, `{"type":"t","severity":11,"message":"m"}`), http.StatusBadRequest, `event 1: field "severity" is 11, want 0 to 10`},
		{"empty body", e.key, "  ", http.StatusBadRequest, `empty body`},
		{"oversized body", e.key, ndjson(good, event("big", 1, strings.Repeat("x", 2048))), http.StatusRequestEntityTooLarge, `body larger than 2048 bytes`},
		{"CR LF in type", e.key, ndjson(good, `{"type":"x\r\nBcc: a@b.example","severity":1,"message":"m"}`), http.StatusBadRequest, `event 1: field "type" has the character U+000D at byte 1`},
		{"escape in source", e.key, ndjson(good, `{"source":"\u001b[31m","type":"t","severity":1,"message":"m"}`), http.StatusBadRequest, `event 1: field "source" has the character U+001B at byte 0`},
		{"C1 in ref", e.key, ndjson(good, `{"ref":"a\u0085","type":"t","severity":1,"message":"m"}`), http.StatusBadRequest, `event 1: field "ref" has the character U+0085 at byte 1`},
		{"right-to-left override", e.key, ndjson(good, `{"type":"t","severity":1,"message":"evil\u202eexe.txt"}`), http.StatusBadRequest, `event 1: field "message" has the character U+202E at byte 4`},
		{"long type", e.key, ndjson(good, `{"type":"`+strings.Repeat("t", 101)+`","severity":1,"message":"m"}`), http.StatusBadRequest, `event 1: field "type" is 101 bytes long, want at most 100`},
		{"long source", e.key, ndjson(good, `{"source":"`+strings.Repeat("s", 201)+`","type":"t","severity":1,"message":"m"}`), http.StatusBadRequest, `event 1: field "source" is 201 bytes long, want at most 200`},
		{"negative severity", e.key, ndjson(good, `{"type":"t","severity":-5,"message":"m"}`), http.StatusBadRequest, `event 1: field "severity" is -5, want 0 to 10`},
		{"dated year 1", e.key, ndjson(good, `{"type":"t","severity":1,"message":"m","time":"0001-01-01T00:00:00Z"}`), http.StatusBadRequest, `event 1: field "time" is 0001-01-01T00:00:00Z, more than 720h0m0s before`},
		{"dated in the future", e.key, ndjson(good, `{"type":"t","severity":1,"message":"m","time":"2999-01-01T00:00:00Z"}`), http.StatusBadRequest, `event 1: field "time" is 2999-01-01T00:00:00Z, more than 5m0s after`},
		{"too many events", e.key, ndjson(good, good, good, good), http.StatusBadRequest, `too many events: more than 3 in one request`},
		{"no key", "", ndjson(good), http.StatusUnauthorized, `missing or invalid API key`},
		{"malformed key", "not-a-key", ndjson(good), http.StatusUnauthorized, `missing or invalid API key`},
		{"wrong secret", e.key[:len(e.key)-1] + flip(e.key[len(e.key)-1]), ndjson(good), http.StatusUnauthorized, `missing or invalid API key`},
		{"account may not report", forbidden, ndjson(good), http.StatusForbidden, `this account may not report events`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, text := e.post(t, tt.key, tt.give)
			assert.Equal(t, tt.wantCode, code)
			assert.Contains(t, text, tt.wantText)
			assert.Equal(t, 0, e.count(t, `SELECT COUNT(*) FROM events`), "nothing persisted")
			assert.Equal(t, 0, e.count(t, `SELECT COUNT(*) FROM alerts`), "no alert sent")
		})
	}
}

func flip(b byte) string {
	if b == '0' {
		return "1"
	}
	return "0"
}

// The websocket endpoint refuses a page of another origin.
func TestWebsocketChecksOrigin(t *testing.T) {
	e := start(t, service.Config{})
	h := withKey(nil, e.key)
	h.Set("Origin", "http://evil.example")
	_, res, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(e.url, "http")+"/ws",
		&websocket.DialOptions{HTTPHeader: h})
	require.Error(t, err)
	require.NotNil(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	h.Set("Origin", e.url) // the dashboard's own origin is fine
	c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(e.url, "http")+"/ws",
		&websocket.DialOptions{HTTPHeader: h})
	require.NoError(t, err)
	c.CloseNow()
}

// The Bearer scheme's name is case-insensitive (RFC 9110): "bearer" works as "Bearer" does.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	e := start(t, service.Config{})
	for i, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		req, err := http.NewRequest(http.MethodPost, e.url+"/events", strings.NewReader(ndjson(event(scheme, 1, "m"))))
		require.NoError(t, err)
		req.Header.Set("Authorization", scheme+" "+e.key)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode, "scheme %q", scheme)
		assert.Equal(t, i+1, e.count(t, `SELECT COUNT(*) FROM events`))
	}
}

// An account's name and organisation meet the checks of an event's text fields: they are shown
// on the dashboard and in alert mails.
func TestCreateAccountChecksNames(t *testing.T) {
	e := start(t, service.Config{})
	for _, tt := range []struct{ name, org, want string }{
		{"ops\r\nBcc: victim@example.com", "Org", `field "name" has the character U+000D at byte 3`},
		{"evil\u202eexe.txt", "Org", `field "name" has the character U+202E at byte 4`},
		{"", "Org", `missing required field "name"`},
		{strings.Repeat("n", 101), "Org", `field "name" is 101 bytes long, want at most 100`},
		{"ops", "Org\x00", `field "org" has the character U+0000 at byte 3`},
		{"ops", strings.Repeat("o", 201), `field "org" is 201 bytes long, want at most 200`},
	} {
		_, err := e.svc.CreateAccount(context.Background(), tt.name, tt.org, true)
		require.Error(t, err, "name %q, org %q", tt.name, tt.org)
		assert.Contains(t, err.Error(), tt.want)
	}
	assert.Equal(t, 1, e.count(t, `SELECT COUNT(*) FROM accounts`), "the demo account alone")
	_, err := e.svc.CreateAccount(context.Background(), "Opérations sécurité", "", true)
	assert.NoError(t, err, "any other UTF-8 text, and no organisation")
}
