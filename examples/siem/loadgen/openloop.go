package loadgen

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Reached is the fraction of the offered rate an open-loop run must achieve for its latencies
// to count: below it the service did not keep up, and the latencies measure how long the backlog
// took to drain, not the service.
const Reached = 0.95

// The arrival processes of an open-loop run (Config.Arrivals).
const (
	Poisson  = "poisson"  // exponential gaps: independent clients, bursts included (default)
	Constant = "constant" // equal gaps: one request every 1/Rate seconds
)

// Schedule returns the arrival times, as offsets from the start, of the requests that arrive
// at rate a second during d: with Poisson arrivals the gaps are exponential, drawn from a
// generator seeded with seed (so a schedule is the same on every run); with Constant arrivals
// they are all 1/rate. Schedule panics if rate or d is not positive or the process is unknown.
func Schedule(rate float64, d time.Duration, arrivals string, seed uint64) []time.Duration {
	if !(rate > 0) || math.IsInf(rate, 1) || d <= 0 {
		panic(fmt.Sprintf("loadgen: Schedule at %v a second for %v: need a positive finite rate and duration", rate, d))
	}
	var at []time.Duration
	switch arrivals {
	case Constant:
		for i := 0; ; i++ {
			t := time.Duration(float64(i) / rate * 1e9)
			if t >= d {
				return at
			}
			at = append(at, t)
		}
	case Poisson:
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		for t := 0.0; ; t += r.ExpFloat64() / rate {
			if time.Duration(t*1e9) >= d {
				return at
			}
			at = append(at, time.Duration(t*1e9))
		}
	}
	panic(fmt.Sprintf("loadgen: Schedule: arrivals %q, want %q or %q", arrivals, Poisson, Constant))
}

// RunOpen runs an open-loop load: requests of cfg.Batch events arrive on a schedule (see
// [Schedule]) at cfg.Rate a second for cfg.Duration, whatever the answers, and are sent over
// cfg.Clients connections. An arrival waits in one queue for the first free connection, as
// a connection pool's caller does; its latency runs from the time it was scheduled to its last
// status line, so the time it waited to be sent counts (no coordinated omission). Requests still
// unsent when the timeout (default Duration plus a minute) or ctx ends are counted as unsent. The error is about the
// configuration only: request failures are counted in the report.
func RunOpen(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.openDefaults(); err != nil {
		return Report{}, err
	}
	if err := cfg.defaults(); err != nil {
		return Report{}, err
	}
	sched := Schedule(cfg.Rate, cfg.Duration, cfg.Arrivals, cfg.Seed)
	if len(sched) == 0 {
		return Report{}, fmt.Errorf("loadgen: no request arrives at %v a second in %v", cfg.Rate, cfg.Duration)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var (
		mu    sync.Mutex
		rep   = Report{Config: cfg, Scheduled: len(sched)}
		lat   []time.Duration
		byEnd int // accepted events answered by the end of the arrivals
	)
	rep.Events = len(sched) * cfg.Batch
	run := threadPacer.drive(ctx, sched, cfg.Clients, func(a int, due time.Time) {
		res, err := post(ctx, client, cfg, a*cfg.Batch, cfg.Batch)
		took := time.Since(due)
		mu.Lock()
		defer mu.Unlock()
		before := rep.Accepted
		rep.add(res, err)
		if sched[a]+took <= cfg.Duration {
			byEnd += rep.Accepted - before
		}
		if err == nil {
			lat = append(lat, took)
		}
	})
	rep.Unsent, rep.Elapsed = run.unsent, run.elapsed
	rep.finishOpen(lat, byEnd)
	return rep, nil
}

func (c *Config) openDefaults() error {
	if !(c.Rate > 0) || math.IsInf(c.Rate, 1) || c.Duration < 0 {
		return fmt.Errorf("loadgen: open loop at rate %v for %v: need a positive finite rate", c.Rate, c.Duration)
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Timeout == 0 { // room for a backlog to drain after the last arrival
		c.Timeout = c.Duration + time.Minute
	}
	switch c.Arrivals {
	case "":
		c.Arrivals = Poisson
	case Poisson, Constant:
	default:
		return fmt.Errorf("loadgen: arrivals %q, want %q or %q", c.Arrivals, Poisson, Constant)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return nil
}

// finishOpen computes the rates from the latencies of the requests answered and the accepted
// events answered by the end of the arrivals (byEnd) and, if the run reached its rate, the
// latencies. The rate achieved is byEnd, in requests' worth, over the duration: at the end of
// the arrivals a service that keeps up has only the requests in flight left unanswered (the rate
// times the mean latency, by Little's law), one that does not has a backlog that grows with the
// duration; and a service that fails or sheds events does not reach the rate by answering fast.
func (r *Report) finishOpen(lat []time.Duration, byEnd int) {
	r.Offered = float64(r.Scheduled) / r.Duration.Seconds()
	r.Achieved = float64(byEnd) / float64(r.Batch) / r.Duration.Seconds()
	r.EventsPerSec = float64(r.Accepted) / r.Elapsed.Seconds()
	r.Reached = r.Unsent == 0 && r.Achieved >= Reached*r.Offered
	if !r.Reached {
		return // latencies of a rate not kept up with measure the backlog: not reported
	}
	slices.Sort(lat)
	r.P50, r.P99, r.P999 = Percentile(lat, 0.50), Percentile(lat, 0.99), Percentile(lat, 0.999)
}

// pacer is how the load generator waits for the next arrival. On Linux it sleeps in nanosleep on
// a thread of its own with a timer slack of 1 us: a Go timer shorter than a millisecond can last
// a millisecond when the process is idle (the network poller's timeout is in milliseconds),
// which would add up to that to the latencies. Tests use time.Sleep, which a synctest bubble's
// fake clock drives. Each time it wakes, it releases every arrival that is due.
type pacer struct {
	thread bool
	sleep  func(time.Duration)
}

var threadPacer = pacer{thread: true, sleep: nap}

// maxNap bounds one sleep of the pacer, so that it sees the end of the run's context soon.
const maxNap = 50 * time.Millisecond

type driven struct {
	unsent  int           // arrivals never handed to do: the context ended first
	elapsed time.Duration // from the start of the schedule to the last do's return
}

// drive calls do(a, due) for each arrival a of sched (increasing offsets), due being the start
// plus sched[a], on one of conns goroutines: the pacer puts each arrival, when due, on one queue
// those goroutines take from in order, each as soon as it is free. The queue holds every
// arrival, so the pacer never waits for a connection. drive returns when every arrival is done
// or skipped: once ctx ends, arrivals not yet taken are skipped and counted unsent.
func (p pacer) drive(ctx context.Context, sched []time.Duration, conns int, do func(a int, due time.Time)) driven {
	queue := make(chan int, len(sched))
	var (
		wg     sync.WaitGroup
		unsent atomic.Int64
		start  = time.Now()
	)
	for range conns {
		wg.Go(func() {
			for a := range queue {
				if ctx.Err() != nil {
					unsent.Add(1)
					continue
				}
				do(a, start.Add(sched[a]))
			}
		})
	}
	a := p.release(ctx, start, sched, queue)
	close(queue)
	wg.Wait()
	return driven{unsent: int(unsent.Load()) + len(sched) - a, elapsed: time.Since(start)}
}

// release puts each arrival on queue when it is due, and returns how many it released: all of
// them, unless ctx ended first.
func (p pacer) release(ctx context.Context, start time.Time, sched []time.Duration, queue chan<- int) int {
	if p.thread {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		preciseSleeps()
	}
	a := 0
	for a < len(sched) && ctx.Err() == nil {
		now := time.Since(start)
		if sched[a] > now {
			p.sleep(min(sched[a]-now, maxNap))
			continue
		}
		for ; a < len(sched) && sched[a] <= now; a++ {
			queue <- a
		}
	}
	return a
}

// Outcome describes an open-loop report in a sentence: the target, offered and achieved rates
// and, if the rate was reached, the latencies from the scheduled start; otherwise it says the
// rate was not reached and gives no latencies.
func (r Report) Outcome() string {
	head := fmt.Sprintf("target %.0f requests/s (%s, %v): %d scheduled, offered %.1f/s, achieved %.1f/s by the end of the arrivals; %.0f events/s over %v",
		r.Rate, r.Arrivals, r.Duration, r.Scheduled, r.Offered, r.Achieved, r.EventsPerSec, r.Elapsed.Round(time.Millisecond))
	if r.Unsent > 0 {
		head += fmt.Sprintf(", %d unsent when the run ended", r.Unsent)
	}
	if !r.Reached {
		return fmt.Sprintf("%s: NOT REACHED (%.0f%% of offered, below %.0f%%): latencies not reported, they would measure the backlog",
			head, 100*r.Achieved/r.Offered, 100*Reached)
	}
	return fmt.Sprintf("%s: reached; latency from the scheduled start p50 %v, p99 %v, p99.9 %v",
		head, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.P999.Round(10*time.Microsecond))
}
