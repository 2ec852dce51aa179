package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// OpenLoopConns is the number of connections of the open-loop benchmark: the arrivals are dealt
// to them in turn, and each makes one call at a time, as a keep-alive HTTP/1.1 connection does.
const OpenLoopConns = 64

// OpenLoopLoads returns the loads of the open-loop benchmark, in percent of the design's capacity.
func OpenLoopLoads() []int { return []int{25, 50, 75, 90} }

// Reached is the fraction of its target rate a run must achieve for its latencies to count: below
// it, the design did not keep up with the arrivals, and the run reports the rate it achieved.
const Reached = 0.95

// OpenLoopServices returns the request/response designs of the open-loop benchmark, in report
// order: the promise design written by hand and with package pipe, group (a group a connection),
// and a goroutine a request. Direct calls are left out: they run on the client's goroutine, and
// their capacity is beyond what one load generator can schedule.
func OpenLoopServices() []Service {
	return []Service{
		{Name: "hand", Start: HandService},
		{Name: "promise", Start: PromiseService},
		{Name: "group", Start: GroupService},
		{Name: "goroutine", Start: GoroutineService},
	}
}

// GoroutineService starts a goroutine a request, as a server that spawns a handler for each
// does: Call starts one that runs the work func of [Work] and sends the result on the
// connection's reply channel (made once, when it connects), and waits for it.
func GoroutineService(w Workload) Server { return goroutineServer{work: Work(w)} }

type goroutineServer struct {
	work func(context.Context, Item) (Item, error)
}

type result struct {
	it  Item
	err error
}

func (s goroutineServer) Connect(context.Context, int) (Conn, error) {
	return &goroutineConn{work: s.work, reply: make(chan result, 1)}, nil
}

func (goroutineServer) Close() error { return nil }

type goroutineConn struct {
	work  func(context.Context, Item) (Item, error)
	reply chan result
}

func (c *goroutineConn) Call(ctx context.Context, it Item) (Item, error) {
	go func() {
		out, err := c.work(ctx, it)
		c.reply <- result{out, err}
	}()
	select {
	case r := <-c.reply:
		return r.it, r.err
	case <-ctx.Done():
		return it, errors.Join(context.Cause(ctx), errors.New("bench: the connection is unusable"))
	}
}

func (*goroutineConn) Close() error { return nil }

// Schedule returns the arrival times of n requests of a Poisson process of the given rate (a
// second), as offsets from the start: the gaps between arrivals are exponential, drawn from a
// generator seeded with seed, so a schedule is the same on every run. A rate of +Inf puts every
// arrival at the start. Schedule panics if n is below 1 or rate is not positive.
func Schedule(n int, rate float64, seed uint64) []time.Duration {
	if n < 1 || !(rate > 0) {
		panic(fmt.Sprintf("bench: Schedule of %d arrivals at %v a second: need at least 1 and a positive rate", n, rate))
	}
	at := make([]time.Duration, n)
	if math.IsInf(rate, 1) {
		return at
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t := 0.0
	for i := range at {
		at[i] = time.Duration(t * 1e9)
		t += r.ExpFloat64() / rate
	}
	return at
}

// Load is what one open-loop run measured.
type Load struct {
	// Latencies holds every request's latency, from the time it was scheduled to arrive to its
	// result, in schedule order: the time a request waited to be sent behind its connection's
	// earlier requests counts, so a stall is not hidden (no coordinated omission).
	Latencies []time.Duration
	// Elapsed is the time from the start of the schedule to the end of the run.
	Elapsed time.Duration
	// First and Last are when the first and the last result came, from the start of the schedule.
	First, Last time.Duration
	// Target is the schedule's rate (requests a second): its gaps over its last arrival; +Inf
	// for a schedule whose requests are all due at once.
	Target float64
}

// Achieved is the rate the run achieved: the results' gaps over the time from the first result
// to the last, the rate at which results came out. A design that keeps up gives results at the
// rate requests arrive, whatever its latency; one that does not, at its own pace. A run of one
// request achieved nothing measurable: 0.
func (l Load) Achieved() float64 {
	if len(l.Latencies) < 2 || l.Last <= l.First {
		if len(l.Latencies) >= 2 {
			return math.Inf(1)
		}
		return 0
	}
	return float64(len(l.Latencies)-1) / (l.Last - l.First).Seconds()
}

// Reached reports whether the run achieved at least [Reached] of its target rate.
func (l Load) Reached() bool { return l.Achieved() >= Reached*l.Target }

// pacer is how the load generator waits for the next arrival: on Linux it sleeps in nanosleep on
// a thread of its own with a timer slack of 1 us, as [Delay]'s clock does, because a Go timer of a
// few microseconds lasts about a millisecond in a process with nothing else to run; tests use a
// plain time.Sleep, which a synctest bubble's fake clock drives. Each time it wakes, it releases
// every arrival that is due.
type pacer struct {
	thread bool
	sleep  func(time.Duration)
}

var threadPacer = pacer{thread: true, sleep: nap}

// OpenLoop runs the schedule sched on srv over w.Streams connections (see [RequestResponse]):
// one goroutine, the load generator, releases each request when it is due, and arrival k goes to
// connection k % w.Streams as item k / w.Streams of its stream. Each connection makes its calls
// one at a time, in order, and checks every result with its [Sink]. A request is timed from when
// it was due, not from when its connection could send it. sched must have w.Total() arrivals, in
// increasing order. OpenLoop returns what it measured and the first error of any connection.
func OpenLoop(srv Server, w Workload, sched []time.Duration) (Load, error) {
	return threadPacer.run(srv, w, sched)
}

func (p pacer) run(srv Server, w Workload, sched []time.Duration) (Load, error) {
	if len(sched) != w.Total() {
		panic(fmt.Sprintf("bench: OpenLoop: a schedule of %d arrivals for %d requests", len(sched), w.Total()))
	}
	ctx := context.Background()
	conns := make([]Conn, w.Streams)
	for c := range conns {
		conn, err := srv.Connect(ctx, c)
		if err != nil {
			for _, open := range conns[:c] {
				_ = open.Close()
			}
			return Load{}, fmt.Errorf("client %d: connect: %w", c, err)
		}
		conns[c] = conn
	}
	lat := make([]time.Duration, len(sched))
	errs := make([]error, w.Streams)
	queues := make([]chan int, w.Streams)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range conns {
		queues[c] = make(chan int, w.Items) // room for every arrival of the connection: the generator never waits
		wg.Go(func() {
			k := w.NewSink(c)
			failed := false
			for a := range queues[c] {
				if failed {
					continue // the connection may be unusable: drop the rest, the error says why
				}
				id := a / w.Streams
				out, err := conns[c].Call(ctx, w.Input(c, id))
				lat[a] = time.Since(start.Add(sched[a]))
				switch {
				case err != nil:
					errs[c], failed = fmt.Errorf("client %d: item %d: %w", c, id, err), true
				case out.ID != id:
					errs[c], failed = fmt.Errorf("client %d: sent item %d, got item %d back", c, id, out.ID), true
				default:
					k.Add(out, nil)
				}
			}
			if !failed {
				errs[c] = k.Err()
			}
			errs[c] = errors.Join(errs[c], conns[c].Close())
		})
	}
	if p.thread {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		preciseSleeps()
	}
	for a := 0; a < len(sched); {
		now := time.Since(start)
		if sched[a] > now {
			p.sleep(sched[a] - now)
			continue
		}
		for ; a < len(sched) && sched[a] <= now; a++ {
			queues[a%w.Streams] <- a
		}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	load := Load{Latencies: lat, Elapsed: time.Since(start), Target: math.Inf(1), First: time.Duration(math.MaxInt64)}
	for a, l := range lat {
		load.First, load.Last = min(load.First, sched[a]+l), max(load.Last, sched[a]+l)
	}
	if last := sched[len(sched)-1]; last > 0 {
		load.Target = float64(len(sched)-1) / last.Seconds()
	}
	return load, errors.Join(errs...)
}

// Capacity measures how many requests a second srv serves over w.Streams connections when every
// request of w is due at once: each connection makes its calls back to back, through the same
// load generator and connections as [OpenLoop].
func Capacity(srv Server, w Workload) (float64, error) {
	load, err := OpenLoop(srv, w, Schedule(w.Total(), math.Inf(1), 0))
	return float64(len(load.Latencies)) / load.Elapsed.Seconds(), err
}

// OpenLoopSize is the open-loop workload: the requests of a run at rate requests a second over
// [OpenLoopConns] connections, about 300 ms of arrivals (20 ms with short), at least 10 a
// connection, through W1's 4 trivial stages.
func OpenLoopSize(rate float64, short bool) Workload {
	span := time.Duration(Size(short, 300, 20)) * time.Millisecond
	per := max(10, int(rate*span.Seconds())/OpenLoopConns)
	return Workload{Name: "OpenLoop", Streams: OpenLoopConns, Items: per, Stages: Trivial(4)}
}

// MeasureOpenLoop benchmarks svc open-loop at load percent of its capacity. It starts one server
// for the whole benchmark; every op measures the capacity (the median of 3 runs of 12,800
// requests, 1,280 with short, every request of a run due at once; see [Capacity]) and then runs a Poisson schedule
// at load percent of it, about 300 ms long (see [OpenLoopSize]), a different schedule each op.
// It reports capacity-rps, target-rps and rps (the rate achieved), each the mean over the ops,
// and, if every op achieved at least [Reached] of its target, p50-ns, p99-ns and p99.9-ns of
// every request of every op; otherwise reached, the fraction of the ops that did, and no
// latencies: latencies of a rate the design cannot keep up with measure only how long the run
// lasted. Every result of every run is checked.
func MeasureOpenLoop(b *testing.B, svc Service, load int) {
	b.Helper()
	if load < 1 || load > 100 {
		panic(fmt.Sprintf("bench: MeasureOpenLoop at %d%% load: need 1 to 100", load))
	}
	short := testing.Short()
	probe := Workload{Name: "OpenLoop", Streams: OpenLoopConns, Items: Size(short, 200, 20), Stages: Trivial(4)}
	srv := svc.Start(probe)
	defer func() {
		if err := srv.Close(); err != nil {
			b.Errorf("%s: closing the server: %v", svc.Name, err)
		}
	}()
	if _, err := Capacity(srv, probe); err != nil {
		b.Fatalf("%s: check before timing: %v", svc.Name, err)
	}
	var all []time.Duration
	var capacity, target, achieved float64
	ops, reached := 0, 0
	for b.Loop() {
		var probes [3]float64
		for i := range probes {
			c, err := Capacity(srv, probe)
			if err != nil {
				b.Fatalf("%s: capacity: %v", svc.Name, err)
			}
			probes[i] = c
		}
		slices.Sort(probes[:])
		c := probes[1]
		rate := c * float64(load) / 100
		w := OpenLoopSize(rate, short)
		run, err := OpenLoop(srv, w, Schedule(w.Total(), rate, uint64(ops)+1))
		if err != nil {
			b.Fatalf("%s: at %.0f a second: %v", svc.Name, rate, err)
		}
		ops++
		capacity += c
		target += run.Target
		achieved += run.Achieved()
		if run.Reached() {
			reached++
			all = append(all, run.Latencies...)
		}
	}
	b.ReportMetric(capacity/float64(ops), "capacity-rps")
	b.ReportMetric(target/float64(ops), "target-rps")
	b.ReportMetric(achieved/float64(ops), "rps")
	if reached < ops {
		b.ReportMetric(float64(reached)/float64(ops), "reached")
		return
	}
	slices.Sort(all)
	b.ReportMetric(float64(Percentile(all, 0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(Percentile(all, 0.99).Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(Percentile(all, 0.999).Nanoseconds()), "p99.9-ns")
}
