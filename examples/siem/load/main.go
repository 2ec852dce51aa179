// Command load drives the SIEM service on 127.0.0.1 in one of two modes, then, given the
// service's database (-db), checks that every acknowledged event is stored exactly once.
//
// Closed loop (the default): it posts N events over C concurrent clients, each sending its next
// request when the last is answered, bounded in count and in time, and reports events per second
// and the p50/p99/p99.9 request latency.
//
// Open loop (-rate R): requests arrive at R a second for -duration (Poisson arrivals, or
// -arrivals constant), whatever the answers, and are sent over C connections; each request's
// latency runs from its scheduled start, so a request that waited for a free connection counts
// its wait. It reports the target, offered and achieved rates and, if the achieved rate is at
// least 95 % of the offered one, p50, p99 and p99.9; otherwise it says the rate was not reached
// and gives no latencies.
//
// Against a service in JetStream mode, an acknowledged event is one answered queued (202): with
// -db it waits for them to be stored (-wait) before it checks. It exits 1 if a request failed,
// an event was not accepted, the rate was not reached or the database is not exactly once.
//
//	cd examples && go run ./siem/load -key siem_... -n 20000 -c 16 -db siem.db
//	cd examples && go run ./siem/load -key siem_... -rate 500 -duration 10s -c 64 -db siem.db
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"time"

	"github.com/stagecoach-go/stagecoach/examples/siem/loadgen"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	var (
		fl   = flag.NewFlagSet("load", flag.ContinueOnError)
		addr = fl.String("addr", "127.0.0.1:8080", "the service's address (a loopback address)")
		db   = fl.String("db", "", "the service's SQLite file; when set, check exactly-once delivery")
		cfg  loadgen.Config
	)
	fl.SetOutput(stderr)
	fl.StringVar(&cfg.Key, "key", "", "API key (printed by the service at its first start)")
	fl.IntVar(&cfg.Events, "n", 10000, "closed loop: events to post")
	fl.IntVar(&cfg.Clients, "c", 16, "concurrent clients (open loop: connections)")
	fl.IntVar(&cfg.Batch, "batch", 10, "events a request")
	fl.DurationVar(&cfg.Timeout, "timeout", 0, "bound of the whole run (default 2m; open loop: the duration plus 1m)")
	fl.Float64Var(&cfg.Rate, "rate", 0, "open loop: requests arriving a second (0: closed loop)")
	fl.DurationVar(&cfg.Duration, "duration", 10*time.Second, "open loop: how long requests arrive")
	fl.StringVar(&cfg.Arrivals, "arrivals", loadgen.Poisson, "open loop: arrivals, poisson or constant")
	fl.Uint64Var(&cfg.Seed, "seed", 1, "open loop: seed of the Poisson schedule")
	wait := fl.Duration("wait", time.Minute, "with -db in JetStream mode: how long to wait for the queued events to be stored")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := checkAddr(*addr); err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	cfg.URL = "http://" + *addr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	open := cfg.Rate != 0
	var rep loadgen.Report
	var err error
	if open {
		rep, err = loadgen.RunOpen(ctx, cfg)
	} else {
		rep, err = loadgen.Run(ctx, cfg)
	}
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	mode := "clients"
	if open {
		mode = "connections, open loop"
	}
	fmt.Fprintf(stdout, "%d events, %d %s, %d a request: %d accepted, %d rejected, %d failed; %d requests, %d errors\n",
		rep.Events, rep.Clients, mode, rep.Batch, rep.Accepted, rep.Rejected, rep.Failed, rep.Requests, rep.Errors)
	if rep.Queued > 0 {
		fmt.Fprintf(stdout, "JetStream mode: %d of the accepted events queued (in the stream, to be stored by the instances)\n", rep.Queued)
	}
	if open {
		fmt.Fprintln(stdout, rep.Outcome())
	} else {
		fmt.Fprintf(stdout, "%.0f events/s over %v; request latency p50 %v, p99 %v, p99.9 %v\n",
			rep.EventsPerSec, rep.Elapsed.Round(time.Millisecond), rep.P50.Round(10*time.Microsecond),
			rep.P99.Round(10*time.Microsecond), rep.P999.Round(10*time.Microsecond))
	}
	if rep.FirstError != "" {
		fmt.Fprintln(stdout, "first error:", rep.FirstError)
	}
	code := 0
	if rep.Errors > 0 || rep.Accepted < rep.Events || open && !rep.Reached {
		code = 1
	}
	if *db != "" {
		if rep.Queued > 0 {
			if err := loadgen.WaitStored(ctx, *db, rep.Prefix, len(rep.Acked), *wait); err != nil {
				fmt.Fprintln(stdout, "waiting for the queued events:", err)
			}
		}
		v, err := loadgen.Verify(ctx, *db, rep.Prefix, rep.Acked)
		if err != nil {
			fmt.Fprintln(stderr, "load: verify:", err)
			return 1
		}
		fmt.Fprintln(stdout, "database:", v)
		if !v.ExactlyOnce() {
			fmt.Fprintln(stdout, "FAIL: not exactly once")
			code = 1
		}
	}
	return code
}

// checkAddr refuses anything but a loopback address: this is a load generator.
func checkAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %q: only loopback addresses are allowed", addr)
	}
	return nil
}
