// Command load posts N events over C concurrent clients to the SIEM service on 127.0.0.1,
// bounded in count and in time, reports events per second and the p50/p99 request latency,
// then, given the service's database (-db), checks that every acknowledged event is stored
// exactly once. Against a service in JetStream mode, an acknowledged event is one answered
// queued (202): it waits for them to be stored (-wait) before it checks.
//
//	cd examples && go run ./siem/load -key siem_... -n 20000 -c 16 -db siem.db
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
	fl.IntVar(&cfg.Events, "n", 10000, "events to post")
	fl.IntVar(&cfg.Clients, "c", 16, "concurrent clients")
	fl.IntVar(&cfg.Batch, "batch", 10, "events a request")
	fl.DurationVar(&cfg.Timeout, "timeout", 2*time.Minute, "bound of the whole run")
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
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	fmt.Fprintf(stdout, "%d events, %d clients, %d a request: %d accepted, %d rejected, %d failed; %d requests, %d errors\n",
		rep.Events, rep.Clients, rep.Batch, rep.Accepted, rep.Rejected, rep.Failed, rep.Requests, rep.Errors)
	if rep.Queued > 0 {
		fmt.Fprintf(stdout, "JetStream mode: %d of the accepted events queued (in the stream, to be stored by the instances)\n", rep.Queued)
	}
	fmt.Fprintf(stdout, "%.0f events/s over %v; request latency p50 %v, p99 %v\n",
		rep.EventsPerSec, rep.Elapsed.Round(time.Millisecond), rep.P50.Round(10*time.Microsecond), rep.P99.Round(10*time.Microsecond))
	if rep.FirstError != "" {
		fmt.Fprintln(stdout, "first error:", rep.FirstError)
	}
	code := 0
	if rep.Errors > 0 || rep.Accepted < rep.Events {
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
