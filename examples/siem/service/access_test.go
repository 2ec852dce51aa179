package service_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

func (e *env) wsURL() string { return "ws" + strings.TrimPrefix(e.url, "http") + "/ws" }

// The stream and the dashboard's data need the API key, or a session opened with it.
func TestStreamNeedsKey(t *testing.T) {
	e := start(t, service.Config{})
	for name, h := range map[string]http.Header{
		"no key":    nil,
		"wrong key": withKey(nil, e.key[:len(e.key)-1]+flip(e.key[len(e.key)-1])),
		"no cookie": {"Cookie": {service.SessionCookie + "=0123"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, res, err := websocket.Dial(context.Background(), e.wsURL(), &websocket.DialOptions{HTTPHeader: h})
			require.Error(t, err)
			require.NotNil(t, res)
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "GET /ws")
			for _, path := range []string{"/api/stats", "/api/events"} {
				req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
				require.NoError(t, err)
				req.Header = h
				if req.Header == nil {
					req.Header = http.Header{}
				}
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				res.Body.Close()
				assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "GET %s", path)
			}
		})
	}

	// The dashboard's way: the key posted once opens a session, whose cookie opens the stream.
	res, err := http.PostForm(e.url+"/api/session", url.Values{"key": {e.key}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == service.SessionCookie {
			cookie = c
		}
	}
	require.NotNil(t, cookie, "the session cookie is set")
	assert.True(t, cookie.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, cookie.SameSite)
	h := http.Header{"Cookie": {cookie.String()}}
	c, _, err := websocket.Dial(context.Background(), e.wsURL(), &websocket.DialOptions{HTTPHeader: h})
	require.NoError(t, err, "a session opens the stream")
	c.CloseNow()

	res, err = http.PostForm(e.url+"/api/session", url.Values{"key": {"siem_nope"}})
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "a wrong key opens no session")
}

// Each websocket connection, and the dashboard's data, see their own account's events only.
func TestStreamShowsOwnAccountOnly(t *testing.T) {
	e := start(t, service.Config{})
	other, err := e.svc.CreateAccount(context.Background(), "other", "Other Org", true)
	require.NoError(t, err)
	// One by its key, the other by a session opened with its key, as the dashboard does.
	mine := e.dialKey(t, e.key, nil)
	theirs, _, err := websocket.Dial(context.Background(), e.wsURL(),
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {e.session(t, other).String()}}})
	require.NoError(t, err)
	t.Cleanup(func() { theirs.CloseNow() })

	_, res, _ := e.post(t, e.key, ndjson(event("m1", 9, "demo's"), event("m2", 2, "demo's too")))
	require.Len(t, res, 2)
	_, res2, _ := e.post(t, other, ndjson(event("o1", 5, "other's")))
	require.Len(t, res2, 1)
	// A last event for each: once it arrives, anything of the other account would have too.
	_, end1, _ := e.post(t, e.key, ndjson(event("end", 1, "demo's last")))
	_, end2, _ := e.post(t, other, ndjson(event("end", 1, "other's last")))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct {
		name string
		c    *websocket.Conn
		want []string // uids in order
	}{
		{"demo", mine, []string{res[0].UID, res[1].UID, end1[0].UID}},
		{"other", theirs, []string{res2[0].UID, end2[0].UID}},
	} {
		var got []string
		for len(got) < len(tt.want) {
			views, err := receive(ctx, tt.c, 1)
			require.NoError(t, err, tt.name)
			got = append(got, views[0].UID)
		}
		assert.ElementsMatch(t, tt.want, got, "%s sees its own events, and only those", tt.name)
	}

	req, err := http.NewRequest(http.MethodGet, e.url+"/api/events", nil)
	require.NoError(t, err)
	req.Header = withKey(nil, other)
	hres, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer hres.Body.Close()
	var latest []service.View
	require.NoError(t, json.NewDecoder(hres.Body).Decode(&latest))
	var uids []string
	for _, v := range latest {
		uids = append(uids, v.UID)
		assert.Equal(t, "other", v.Account)
	}
	assert.Equal(t, []string{end2[0].UID, res2[0].UID}, uids, "the other account's history, newest first")
	assert.Equal(t, map[string]int64{"low": 2, "medium": 0, "high": 0, "critical": 1}, e.stats(t).Levels,
		"the demo account's stored events by level")
}

// A request whose Host is not the service's address is refused, whatever its Origin says:
// a DNS-rebinding page (Host and Origin both evil.example) reaches neither the stream nor the API,
// nor does a Host naming another port of this machine, or a name that merely starts like its own.
func TestForgedHostIsRefused(t *testing.T) {
	e := start(t, service.Config{})
	hostport := strings.TrimPrefix(e.url, "http://")
	_, port, err := net.SplitHostPort(hostport)
	require.NoError(t, err)
	other := "1"
	if port == "1" {
		other = "2"
	}
	for _, host := range []string{"evil.example", "evil.example:" + port, "127.0.0.1:" + other,
		"localhost.evil.example:" + port, "127.0.0.1.evil.example:" + port} {
		t.Run(host, func(t *testing.T) {
			h := withKey(nil, e.key)
			h.Set("Origin", "http://"+host)
			dial := &websocket.DialOptions{HTTPHeader: h, Host: host}
			_, res, err := websocket.Dial(context.Background(), e.wsURL(), dial)
			require.Error(t, err)
			require.NotNil(t, res)
			assert.Equal(t, http.StatusMisdirectedRequest, res.StatusCode, "GET /ws")
			for _, path := range []string{"/api/stats", "/api/events", "/", "/readyz"} {
				req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
				require.NoError(t, err)
				req.Header, req.Host = h, host
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				res.Body.Close()
				assert.Equal(t, http.StatusMisdirectedRequest, res.StatusCode, "GET %s", path)
			}
			req, err := http.NewRequest(http.MethodPost, e.url+"/events", strings.NewReader(ndjson(event("x", 1, "m"))))
			require.NoError(t, err)
			req.Header, req.Host = h, host
			pres, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			pres.Body.Close()
			assert.Equal(t, http.StatusMisdirectedRequest, pres.StatusCode, "POST /events")
			assert.Zero(t, e.count(t, `SELECT COUNT(*) FROM events`))
		})
	}

	// The service's own names work: its address, and localhost for a loopback address, in any case.
	for _, host := range []string{hostport, "localhost:" + port, "LocalHost:" + port} {
		c, _, err := websocket.Dial(context.Background(), e.wsURL(),
			&websocket.DialOptions{HTTPHeader: withKey(nil, e.key), Host: host})
		require.NoError(t, err, "Host %s", host)
		c.CloseNow()
	}
}

// The dashboard's data on open come from the database: after a restart, the latest events and
// the counts by level are those stored before it; only the instance's own counts start again.
func TestHistoryAndCountsSurviveRestart(t *testing.T) {
	first := start(t, service.Config{})
	code, res, text := first.post(t, first.key, ndjson(event("a", 9, "critical"), event("b", 2, "low"), event("c", 5, "medium")))
	require.Equal(t, http.StatusOK, code, text)
	_, last, _ := first.post(t, first.key, ndjson(event("d", 7, "high, the latest")))
	require.NoError(t, first.stop())

	e := startOn(t, service.Config{DB: first.db})
	require.Empty(t, e.key, "the second start shows no key")
	e.key = first.key
	req, err := http.NewRequest(http.MethodGet, e.url+"/api/events", nil)
	require.NoError(t, err)
	req.Header = withKey(nil, e.key)
	hres, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer hres.Body.Close()
	require.Equal(t, http.StatusOK, hres.StatusCode)
	var latest []service.View
	require.NoError(t, json.NewDecoder(hres.Body).Decode(&latest))
	var uids []string
	for _, v := range latest {
		uids = append(uids, v.UID)
	}
	require.Len(t, uids, 4, "every stored event")
	assert.Equal(t, last[0].UID, uids[0], "newest first")
	assert.ElementsMatch(t, []string{res[0].UID, res[1].UID, res[2].UID}, uids[1:])
	st := e.stats(t)
	assert.Equal(t, map[string]int64{"low": 1, "medium": 1, "high": 1, "critical": 1}, st.Levels, "counts from the database")
	assert.Zero(t, st.Statuses[service.StatusAccepted], "the instance's own counts are since its start")
}

// session opens a session with the key, as the dashboard does, and returns its cookie.
func (e *env) session(t *testing.T, key string) *http.Cookie {
	t.Helper()
	res, err := http.PostForm(e.url+"/api/session", url.Values{"key": {key}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	for _, c := range res.Cookies() {
		if c.Name == service.SessionCookie {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// The names given in Config.Hosts (-host) are served besides the listen address, the websocket
// included when the page comes from that name; any other name is still refused.
func TestConfiguredHostsAreServed(t *testing.T) {
	e := start(t, service.Config{Hosts: []string{"siem.example:8443"}})
	for host, want := range map[string]int{
		"siem.example:8443": http.StatusOK,
		"SIEM.example:8443": http.StatusOK,
		"siem.example":      http.StatusMisdirectedRequest,
		"siem.example:8080": http.StatusMisdirectedRequest,
		"evil.example:8443": http.StatusMisdirectedRequest,
	} {
		req, err := http.NewRequest(http.MethodGet, e.url+"/api/stats", nil)
		require.NoError(t, err)
		req.Header, req.Host = withKey(nil, e.key), host
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, want, res.StatusCode, "Host %s", host)
	}
	h := withKey(nil, e.key)
	h.Set("Origin", "https://siem.example:8443")
	c, _, err := websocket.Dial(context.Background(), e.wsURL(), &websocket.DialOptions{HTTPHeader: h, Host: "siem.example:8443"})
	require.NoError(t, err, "a page of the configured name opens the stream")
	c.CloseNow()
}
