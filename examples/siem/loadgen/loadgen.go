package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, for Verify
)

// Config is one load run. URL and Key are required; [RunOpen] requires Rate too.
type Config struct {
	URL     string        // the service, http://127.0.0.1:port
	Key     string        `json:"-"` // an API key
	Events  int           // closed loop: events to post in all (default 10000)
	Clients int           // concurrent clients (default 16); open loop: connections
	Batch   int           // events a request (default 10)
	Timeout time.Duration // bound of the whole run (default 2 minutes)
	Prefix  string        // ref prefix of this run's events (default random)

	// Open loop ([RunOpen]) only.
	Rate     float64       // requests a second arriving (required)
	Duration time.Duration // how long requests arrive (default 10 s)
	Arrivals string        // Poisson (default) or Constant
	Seed     uint64        // of the Poisson schedule (default 1)
}

func (c *Config) defaults() error {
	if c.URL == "" || c.Key == "" {
		return errors.New("loadgen: URL and Key are required")
	}
	if c.Events < 0 || c.Clients < 0 || c.Batch < 0 || c.Timeout < 0 {
		return fmt.Errorf("loadgen: negative Events %d, Clients %d, Batch %d or Timeout %v",
			c.Events, c.Clients, c.Batch, c.Timeout)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Events, 10000)
	def(&c.Clients, 16)
	def(&c.Batch, 10)
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.Prefix == "" {
		b := make([]byte, 6)
		rand.Read(b)
		c.Prefix = "load-" + hex.EncodeToString(b) + "-"
	}
	return nil
}

// Report is the outcome of a run. In an open-loop run ([RunOpen]), Events is the scheduled
// events, and the latencies are only set if the run reached its rate.
type Report struct {
	Config
	Scheduled    int           // open loop: requests scheduled
	Unsent       int           // open loop: of them, not sent when the run ended (timeout or ctx)
	Offered      float64       // open loop: requests a second scheduled (Scheduled over Duration)
	Achieved     float64       // open loop: accepted events answered within Duration, over Batch, a second of Duration
	Reached      bool          // open loop: Achieved is at least [Reached] of Offered, and none unsent
	Requests     int           // requests answered with 200 (in-process designs) or 202 (JetStream mode)
	Errors       int           // requests that failed (transport or status)
	Accepted     int           // events acknowledged: accepted (stored), or queued (JetStream mode: in the stream)
	Queued       int           // of them, queued: stored later, by whichever instance takes them
	Rejected     int           // events rejected
	Failed       int           // events failed, or unknown
	Elapsed      time.Duration // from the first request (open loop: the first arrival) to the last answer
	EventsPerSec float64       // accepted events a second of Elapsed
	// Request latency, to the last status line from sending it (closed loop) or from its
	// scheduled start (open loop).
	P50, P99, P999 time.Duration
	Acked          []string `json:"-"` // refs of the accepted events
	FirstError     string   // the first request error, if any
}

// Run posts cfg.Events events, cfg.Batch a request, from cfg.Clients concurrent clients, and
// measures. It stops early when its timeout or ctx ends. The error is about the configuration
// only: request failures are counted in the report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.defaults(); err != nil {
		return Report{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var (
		next   atomic.Int64 // index of the next event to post
		mu     sync.Mutex
		rep    = Report{Config: cfg}
		lat    []time.Duration
		wg     sync.WaitGroup
		starts = time.Now()
	)
	for range cfg.Clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				first := int(next.Add(int64(cfg.Batch))) - cfg.Batch
				if first >= cfg.Events {
					return
				}
				n := min(cfg.Batch, cfg.Events-first)
				t0 := time.Now()
				res, err := post(ctx, client, cfg, first, n)
				took := time.Since(t0)
				mu.Lock()
				rep.add(res, err)
				if err == nil {
					lat = append(lat, took)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rep.Elapsed = time.Since(starts)
	rep.EventsPerSec = float64(rep.Accepted) / rep.Elapsed.Seconds()
	slices.Sort(lat)
	rep.P50, rep.P99, rep.P999 = Percentile(lat, 0.50), Percentile(lat, 0.99), Percentile(lat, 0.999)
	return rep, nil
}

type result struct {
	Ref    string `json:"ref"`
	Status string `json:"status"`
}

func (r *Report) add(res []result, err error) {
	if err != nil {
		r.Errors++
		if r.FirstError == "" {
			r.FirstError = err.Error()
		}
	} else {
		r.Requests++
	}
	for _, x := range res { // a request cut short still acknowledged what it streamed
		switch x.Status {
		case "queued":
			r.Queued++
			fallthrough
		case "accepted":
			r.Accepted++
			r.Acked = append(r.Acked, x.Ref)
		case "rejected":
			r.Rejected++
		default:
			r.Failed++
		}
	}
}

// post sends events [first, first+n) as NDJSON and reads their status lines.
func post(ctx context.Context, c *http.Client, cfg Config, first, n int) ([]result, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for i := first; i < first+n; i++ {
		enc.Encode(map[string]any{
			"ref": fmt.Sprintf("%s%d", cfg.Prefix, i), "type": "load", "severity": i % 11,
			"source": "loadgen", "message": fmt.Sprintf("load event %d", i),
		})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL+"/events", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.Key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusAccepted {
		text, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return nil, fmt.Errorf("status %d: %s", res.StatusCode, bytes.TrimSpace(text))
	}
	var out []result
	dec := json.NewDecoder(res.Body)
	for {
		var r result
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			return out, fmt.Errorf("status lines: %w", err)
		}
		out = append(out, r)
	}
	if len(out) != n {
		return out, fmt.Errorf("%d status lines for %d events", len(out), n)
	}
	return out, nil
}

// Percentile returns the p-quantile (0 to 1) of sorted by the nearest-rank method, or 0 for
// none. Percentile panics if p is outside [0, 1].
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if p < 0 || p > 1 {
		panic(fmt.Sprintf("loadgen: percentile %v outside [0, 1]", p))
	}
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Verification is what Verify found in the database.
type Verification struct {
	Acked      int // acknowledged events
	Missing    int // acknowledged but not stored
	Duplicated int // stored more than once
	Unacked    int // stored with the run's prefix but not acknowledged
}

// ExactlyOnce reports whether every acknowledged event is stored exactly once.
func (v Verification) ExactlyOnce() bool { return v.Missing == 0 && v.Duplicated == 0 }

func (v Verification) String() string {
	return fmt.Sprintf("%d acknowledged: %d missing, %d duplicated, %d stored unacknowledged",
		v.Acked, v.Missing, v.Duplicated, v.Unacked)
}

// WaitStored waits until the SQLite database at path holds n events whose ref has the prefix,
// or for at most d: in JetStream mode, queued events are stored as the instances take them.
func WaitStored(ctx context.Context, path, prefix string, n int, d time.Duration) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(d)
	for {
		var got int
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE substr(ref, 1, length(?)) = ?`, prefix, prefix).Scan(&got)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if got >= n {
			return nil
		}
		select {
		case <-tick.C:
		case <-timeout:
			return fmt.Errorf("%d of %d events stored after %v", got, n, d)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Verify counts, in the SQLite database at path, the stored events whose ref has the prefix,
// against the acknowledged refs.
func Verify(ctx context.Context, path, prefix string, acked []string) (Verification, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return Verification{}, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx,
		`SELECT ref, COUNT(*) FROM events WHERE substr(ref, 1, length(?)) = ? GROUP BY ref`, prefix, prefix)
	if err != nil {
		return Verification{}, fmt.Errorf("read %s: %w", path, err)
	}
	defer rows.Close()
	stored := map[string]int{}
	for rows.Next() {
		var ref string
		var n int
		if err := rows.Scan(&ref, &n); err != nil {
			return Verification{}, err
		}
		stored[ref] = n
	}
	if err := rows.Err(); err != nil {
		return Verification{}, err
	}
	v := Verification{Acked: len(acked)}
	ack := map[string]bool{}
	for _, ref := range acked {
		ack[ref] = true
		switch stored[ref] {
		case 0:
			v.Missing++
		case 1:
		default:
			v.Duplicated++
		}
	}
	for ref := range stored {
		if !ack[ref] {
			v.Unacked++
		}
	}
	return v, nil
}
