package bench

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stagecoach-go/stagecoach/group"
)

// A Server is one running request/response service that many clients share, the way a service
// shares one instance among its connections: it runs for the whole benchmark.
type Server interface {
	// Connect opens client c's connection.
	Connect(ctx context.Context, c int) (Conn, error)
	// Close stops the service once every connection is closed, and reports what went wrong in it.
	Close() error
}

// A Conn is one client's connection to a [Server]: one call at a time.
type Conn interface {
	// Call hands it to the service and returns its result.
	Call(ctx context.Context, it Item) (Item, error)
	// Close ends the connection.
	Close() error
}

// Service is one named request/response implementation.
type Service struct {
	// Name is the <impl> part of the benchmark names.
	Name string
	// Start starts a server that runs every item through w's stages.
	Start func(w Workload) Server
}

// Services returns Stagecoach's request/response implementations in report order: direct calls,
// the promise design the seed documents describe written by hand ([HandService]) and with package
// pipe ([PromiseService]), and group.
func Services() []Service {
	return []Service{
		{Name: "direct", Start: DirectService},
		{Name: "hand", Start: HandService},
		{Name: "promise", Start: PromiseService},
		{Name: "group", Start: GroupService},
	}
}

// RequestResponse is the request/response workload of c clients: client s makes Items round
// trips, each submitting one item of stream s and waiting for its result before the next, through
// 4 trivial stages (as W1's). Every client makes 100 round trips at least, and 20,000 are made in
// all at least (fewer with short). It panics if c is below 1.
func RequestResponse(c int, short bool) Workload {
	if c < 1 {
		panic(fmt.Sprintf("bench: a request/response workload needs at least 1 client, got %d", c))
	}
	rounds := max(Size(short, 100, 5), Size(short, 20_000, 200)/c)
	return Workload{Name: "RequestResponse", Streams: c, Items: rounds, Stages: Trivial(4)}
}

// Trips is what one run of a request/response workload measured.
type Trips struct {
	// Latencies holds the length of every round trip, client by client.
	Latencies []time.Duration
	// Elapsed is the time from the start signal to the last client's last result.
	Elapsed time.Duration
}

// RoundTrips runs w (see [RequestResponse]) once on srv: w.Streams clients connect, wait for one
// start signal, and make w.Items round trips each, one at a time, every result checked by the
// client's [Sink] and against the item it sent. It returns every round trip's latency and the
// first error of any client.
func RoundTrips(srv Server, w Workload) (Trips, error) {
	ctx := context.Background()
	lat := make([]time.Duration, w.Total())
	errs := make([]error, w.Streams)
	start := make(chan struct{})
	var ready, wg sync.WaitGroup
	ready.Add(w.Streams)
	for c := range w.Streams {
		wg.Go(func() {
			conn, err := srv.Connect(ctx, c)
			ready.Done()
			if err != nil {
				errs[c] = fmt.Errorf("client %d: connect: %w", c, err)
				return
			}
			<-start
			errs[c] = errors.Join(client(ctx, conn, w, c, lat[c*w.Items:(c+1)*w.Items]), conn.Close())
		})
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	wg.Wait()
	return Trips{Latencies: lat, Elapsed: time.Since(t0)}, errors.Join(errs...)
}

// client makes client c's round trips on conn, recording each one's latency in lat.
func client(ctx context.Context, conn Conn, w Workload, c int, lat []time.Duration) error {
	k := w.NewSink(c)
	for id := range w.Items {
		in := w.Input(c, id)
		t := time.Now()
		out, err := conn.Call(ctx, in)
		lat[id] = time.Since(t)
		if err != nil {
			return fmt.Errorf("client %d: item %d: %w", c, id, err) // the connection may be unusable
		}
		if out.ID != id {
			return fmt.Errorf("client %d: sent item %d, got item %d back", c, id, out.ID)
		}
		k.Add(out, nil)
	}
	return k.Err()
}

// Percentile returns the p-quantile (0 < p <= 1) of sorted by the nearest-rank method: the smallest
// value that at least p of the values do not exceed. Percentile panics if sorted is empty or p is
// outside (0, 1].
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 || p <= 0 || p > 1 {
		panic(fmt.Sprintf("bench: Percentile of %d values at p = %v: need values and 0 < p <= 1", len(sorted), p))
	}
	rank := int(p*float64(len(sorted))+0.999999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// MeasureRoundTrips benchmarks svc on w (see [RequestResponse]): it starts one server for the
// whole benchmark, runs w once untimed and checks it, then once an op, and reports p50-ns and
// p99-ns (of every round trip of the timed ops) and rt/s (round trips a second, from start signal
// to last result). Every round trip of every op is checked.
func MeasureRoundTrips(b *testing.B, svc Service, w Workload) {
	b.Helper()
	srv := svc.Start(w)
	defer func() {
		if err := srv.Close(); err != nil {
			b.Errorf("%s: closing the server: %v", svc.Name, err)
		}
	}()
	if _, err := RoundTrips(srv, w); err != nil {
		b.Fatalf("%s: check before timing: %v", svc.Name, err)
	}
	var all []time.Duration
	var elapsed time.Duration
	for b.Loop() {
		trips, err := RoundTrips(srv, w)
		if err != nil {
			b.Fatalf("%s: %v", svc.Name, err)
		}
		all = append(all, trips.Latencies...)
		elapsed += trips.Elapsed
	}
	slices.Sort(all)
	b.ReportMetric(float64(Percentile(all, 0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(Percentile(all, 0.99).Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "rt/s")
}

// DirectService answers on the client's own goroutine: Call runs the work func of [Work] itself.
// It is the limit, what a round trip costs with no hand-over.
func DirectService(w Workload) Server { return directServer{work: Work(w)} }

type directServer struct {
	work func(context.Context, Item) (Item, error)
}

func (s directServer) Connect(context.Context, int) (Conn, error) { return directConn(s), nil }
func (directServer) Close() error                                 { return nil }

type directConn directServer

func (c directConn) Call(ctx context.Context, it Item) (Item, error) { return c.work(ctx, it) }
func (directConn) Close() error                                      { return nil }

// GroupService is one group.Router running [Work] on GOMAXPROCS workers for the whole service,
// and one group a connection, opened when the client connects (a server keeps one group per
// connection, not one per request): Call submits the item and pulls the next result of the group.
func GroupService(w Workload) Server {
	return groupServer{r: group.New[int](Work(w))}
}

type groupServer struct{ r *group.Router[int, Item] }

func (s groupServer) Connect(ctx context.Context, c int) (Conn, error) {
	g, err := s.r.Open(ctx, c)
	if err != nil {
		return nil, err
	}
	next, stop := iter.Pull2(g.Results())
	return &groupConn{g: g, next: next, stop: stop}, nil
}

func (s groupServer) Close() error { return s.r.Shutdown(context.Background()) }

type groupConn struct {
	g    *group.Group[int, Item]
	next func() (Item, error, bool)
	stop func()
}

func (c *groupConn) Call(ctx context.Context, it Item) (Item, error) {
	if err := c.g.Submit(ctx, it); err != nil {
		return it, err
	}
	out, err, ok := c.next()
	if !ok {
		return it, fmt.Errorf("bench: group %d ended before its result", c.g.Key())
	}
	return out, err
}

// Close closes the group and checks that no result was left over.
func (c *groupConn) Close() error {
	defer c.stop()
	c.g.Close()
	if _, _, ok := c.next(); ok {
		return fmt.Errorf("bench: group %d had a result nobody asked for", c.g.Key())
	}
	return nil
}
