package service_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

var designs = []string{service.DesignGroup, service.DesignPipe}

// env is a started service on 127.0.0.1 with a fresh SQLite file.
type env struct {
	svc  *service.Service
	url  string // http://127.0.0.1:port
	key  string // the demo account's key
	db   string // the database file
	stop func() error
}

// start starts the service on a fresh database file and registers its graceful stop, which
// must succeed.
func start(t testing.TB, cfg service.Config) *env {
	t.Helper()
	cfg.DB = filepath.Join(t.TempDir(), "siem.db")
	e := startOn(t, cfg)
	require.NotEmpty(t, e.key, "a fresh database gets a demo key")
	return e
}

// startOn starts the service on cfg.DB, which may exist already (its key is then ""); its
// graceful stop, which must succeed, runs at cleanup unless e.stop ran before.
func startOn(t testing.TB, cfg service.Config) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, cfg)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, ln) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() { cancel(); stopErr = <-served })
		return stopErr
	}
	t.Cleanup(func() { require.NoError(t, stop()) })
	return &env{svc: svc, url: "http://" + ln.Addr().String(), key: svc.DemoKey(), db: cfg.DB, stop: stop}
}

// post sends body to POST /events with key and returns the status code, and either the result
// lines (200) or the error text.
func (e *env) post(t testing.TB, key, body string) (int, []service.Result, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/events", strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		text, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, nil, strings.TrimSpace(string(text))
	}
	var out []service.Result
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var r service.Result
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), "line %q", sc.Text())
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return res.StatusCode, out, ""
}

// count runs a COUNT query on the service's database file, through its own connection.
func (e *env) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.db+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow(query, args...).Scan(&n))
	return n
}

// strings returns the first column of every row of query.
func (e *env) strings(t testing.TB, query string, args ...any) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.db+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// dial connects a websocket client of the demo account; it is closed at cleanup.
func (e *env) dial(t testing.TB, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	return e.dialKey(t, e.key, opts)
}

// dialKey connects a websocket client with the API key; it is closed at cleanup.
func (e *env) dialKey(t testing.TB, key string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	if opts == nil {
		opts = &websocket.DialOptions{}
	}
	opts.HTTPHeader = withKey(opts.HTTPHeader, key)
	c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(e.url, "http")+"/ws", opts)
	require.NoError(t, err)
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// receive reads n events from c.
func receive(ctx context.Context, c *websocket.Conn, n int) ([]service.View, error) {
	var out []service.View
	for len(out) < n {
		_, data, err := c.Read(ctx)
		if err != nil {
			return out, err
		}
		var v service.View
		if err := json.Unmarshal(data, &v); err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// event renders one input event as JSON.
func event(ref string, severity int, msg string) string {
	return fmt.Sprintf(`{"ref":%q,"type":"test","severity":%d,"message":%q,"source":"unit"}`, ref, severity, msg)
}

// ndjson joins events a line each.
func ndjson(evs ...string) string { return strings.Join(evs, "\n") + "\n" }

// jsonLines decodes Result lines from r one at a time.
func jsonLines(r io.Reader) func() (service.Result, error) {
	dec := json.NewDecoder(r)
	return func() (service.Result, error) {
		var res service.Result
		err := dec.Decode(&res)
		return res, err
	}
}

// withKey returns h (or a new header) with the API key as its bearer token.
func withKey(h http.Header, key string) http.Header {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Authorization", "Bearer "+key)
	return h
}

// stats reads GET /api/stats, as the demo account.
func (e *env) stats(t testing.TB) service.Stats {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+"/api/stats", nil)
	require.NoError(t, err)
	req.Header = withKey(req.Header, e.key)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	defer res.Body.Close()
	var st service.Stats
	require.NoError(t, json.NewDecoder(res.Body).Decode(&st))
	return st
}
