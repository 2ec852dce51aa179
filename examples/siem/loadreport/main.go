// Command loadreport measures the SIEM service under load and writes the README's tables and
// charts. For each run it starts the service as its own process (built from ./siem) on a
// fresh database, runs the load generator against it (package loadgen, the load command's
// code), stops the service with SIGTERM and checks the database for exactly-once delivery.
//
//	cd examples && go run ./siem/loadreport -readme siem/README.md
//
// Closed loop: both designs at 1, 16 and 256 clients, the SQLite write modes and the worker
// counts, each scenario -runs times, interleaved, the median by events/s reported.
//
// Open loop: first the capacity of each design, closed loop at -open-conns clients (the median
// of -runs runs); then, at each of -loads percent of the higher of the two capacities, the same
// Poisson schedule for both designs, -open-duration long, over -open-conns connections, -runs
// times, interleaved. For each design and load it reports the median run by p99, a run that did
// not reach its rate counting as the worst: if that run did not reach it, neither did the
// design, and no latency is given.
//
// It writes siem/docs/load.md (the tables), siem/docs/load.svg (closed loop: events per second
// by clients), siem/docs/load-open.svg (open loop: latency against offered load) and
// siem/docs/load.json (every run's measurements), and with -readme replaces the part of that
// file between the lines "<!-- load:begin -->" and "<!-- load:end -->" with the tables. With
// -from load.json it measures nothing and renders that file's runs again (given the flags they
// were measured with); -note puts a line on the machine above the tables.
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/stagecoach-go/stagecoach/examples/siem/loadgen"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// scenario is one measured configuration.
type scenario struct {
	Table   string // which table it belongs to
	Design  string
	Clients int
	SQLite  string
	Workers int
}

func (s scenario) args() []string {
	return []string{"-design", s.Design, "-sqlite", s.SQLite, "-workers", fmt.Sprint(s.Workers)}
}

// defaultWorkers are the service's defaults: a group worker runs all five stages, a pipe
// worker one.
var defaultWorkers = map[string]int{"group": 128, "pipe": 32}

// measurement is a scenario's outcome.
type measurement struct {
	scenario
	Rep loadgen.Report
	Ver loadgen.Verification
}

func scenarios() []scenario {
	var out []scenario
	for _, c := range []int{1, 16, 256} {
		for _, d := range []string{"group", "pipe"} {
			out = append(out, scenario{"designs", d, c, "batch", defaultWorkers[d]})
		}
	}
	for _, m := range []string{"batch", "one-writer", "wal-pool"} {
		out = append(out, scenario{"sqlite", "group", 16, m, defaultWorkers["group"]})
	}
	for _, w := range []int{8, 32, 128} {
		for _, d := range []string{"group", "pipe"} {
			out = append(out, scenario{"workers", d, 256, "batch", w})
		}
	}
	return out
}

// options are the report's flags.
type options struct {
	n, batch, runs                int
	out, readme, only, from, note string
	open                          openOptions
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fl := flag.NewFlagSet("loadreport", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.IntVar(&o.n, "n", 15000, "events a closed-loop run, and a capacity run")
	fl.IntVar(&o.batch, "batch", 10, "events a request")
	fl.StringVar(&o.out, "out", filepath.Join("siem", "docs"), "directory for load.md, load.svg, load-open.svg and load.json")
	fl.StringVar(&o.readme, "readme", "", "README whose load section to replace with the tables")
	fl.StringVar(&o.only, "only", "", "run only the scenarios of this table (designs, sqlite, workers, open)")
	fl.StringVar(&o.note, "note", "", "a note on the machine for the tables' first line (its load, what else ran)")
	fl.StringVar(&o.from, "from", "", "measure nothing: render the tables and charts from this load.json (give the flags it was measured with)")
	fl.IntVar(&o.runs, "runs", 3, "runs of each scenario, interleaved; the median is reported")
	fl.IntVar(&o.open.conns, "open-conns", 64, "open loop: connections (and the clients of its capacity runs)")
	fl.DurationVar(&o.open.duration, "open-duration", 5*time.Second, "open loop: how long requests arrive in a run")
	loads := fl.String("loads", "25,50,75,90,110", "open loop: the offered loads, in percent of the capacity")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var err error
	if o.open.loads, err = parseLoads(*loads); err != nil {
		fmt.Fprintln(stderr, "loadreport:", err)
		return 2
	}
	if o.runs < 1 || o.n < 1 || o.batch < 1 || o.open.conns < 1 || o.open.duration <= 0 {
		fmt.Fprintf(stderr, "loadreport: -runs %d, -n %d, -batch %d, -open-conns %d and -open-duration %v must be positive\n",
			o.runs, o.n, o.batch, o.open.conns, o.open.duration)
		return 2
	}
	if !slices.Contains([]string{"", "designs", "sqlite", "workers", "open"}, o.only) {
		fmt.Fprintf(stderr, "loadreport: -only %q: want designs, sqlite, workers or open\n", o.only)
		return 2
	}
	if err := report(o, stdout); err != nil {
		fmt.Fprintln(stderr, "loadreport:", err)
		return 1
	}
	return 0
}

// runs is every run of a report, as load.json keeps them.
type runs struct {
	Closed [][]measurement `json:",omitempty"` // every closed-loop run, by scenario
	Open   *openResult     `json:",omitempty"` // the capacity runs and every open-loop run
}

// report measures (or, with -from, reads what was measured) and writes the files.
func report(o options, log io.Writer) error {
	var all runs
	if o.from != "" {
		data, err := os.ReadFile(o.from)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &all); err != nil {
			return fmt.Errorf("%s: %w", o.from, err)
		}
	} else {
		var err error
		if all, err = measureAll(o, log); err != nil {
			return err
		}
		js, err := json.MarshalIndent(all, "", "\t") // every run, for a later look
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(o.out, "load.json"), js, 0o644); err != nil {
			return err
		}
	}
	return render(all, o)
}

// measureAll builds the service and runs the scenarios asked for.
func measureAll(o options, log io.Writer) (runs, error) {
	var all runs
	tmp, err := os.MkdirTemp("", "loadreport")
	if err != nil {
		return all, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "siem")
	build := exec.Command("go", "build", "-o", bin, "./siem")
	build.Stdout, build.Stderr = log, log
	if err := build.Run(); err != nil {
		return all, fmt.Errorf("go build ./siem (run from the examples module): %w", err)
	}
	if all.Closed, err = closedLoop(bin, tmp, o, log); err != nil {
		return all, err
	}
	if o.only == "" || o.only == "open" {
		res, err := openLoop(bin, tmp, o, log)
		if err != nil {
			return all, err
		}
		all.Open = &res
	}
	return all, nil
}

// render writes load.md, the charts and, with -readme, the README's section.
func render(all runs, o options) error {
	var ms []measurement
	for _, runs := range all.Closed {
		ms = append(ms, median(runs))
	}
	md := tables(ms, o.n, o.batch, o.runs)
	if o.note != "" {
		md = "Machine: " + o.note + "\n\n" + md
	}
	if len(filter(ms, "designs")) > 0 {
		if err := os.WriteFile(filepath.Join(o.out, "load.svg"), []byte(chart(ms)), 0o644); err != nil {
			return err
		}
	}
	if all.Open != nil {
		md += openTables(*all.Open, o)
		if err := os.WriteFile(filepath.Join(o.out, "load-open.svg"), []byte(openChart(*all.Open)), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(o.out, "load.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if o.readme != "" {
		return replaceSection(o.readme, md)
	}
	return nil
}

// closedLoop runs the closed-loop scenarios asked for, o.runs times each, interleaved so that a
// change of the machine's load hits every scenario alike, and returns every run by scenario.
func closedLoop(bin, tmp string, o options, log io.Writer) ([][]measurement, error) {
	var todo []scenario
	for _, sc := range scenarios() {
		if o.only == "" || sc.Table == o.only {
			todo = append(todo, sc)
		}
	}
	all := make([][]measurement, len(todo))
	for r := range o.runs {
		for i, sc := range todo {
			m, err := measure(bin, filepath.Join(tmp, fmt.Sprintf("r%d-s%d.db", r, i)), sc, o.n, o.batch)
			if err != nil {
				return nil, fmt.Errorf("%+v: %w", sc, err)
			}
			fmt.Fprintf(log, "run %d: %-7s %-5s c=%-3d %-10s w=%-3d %7.0f events/s p50 %v p99 %v; %v\n", r+1, sc.Table, sc.Design,
				sc.Clients, sc.SQLite, sc.Workers, m.Rep.EventsPerSec, m.Rep.P50.Round(time.Microsecond*10),
				m.Rep.P99.Round(time.Microsecond*10), m.Ver)
			if !m.Ver.ExactlyOnce() || m.Rep.Errors > 0 {
				return nil, fmt.Errorf("%+v: %v, %d request errors (first: %s)", sc, m.Ver, m.Rep.Errors, m.Rep.FirstError)
			}
			all[i] = append(all[i], m)
		}
	}
	return all, nil
}

// measure runs one scenario, closed loop, against a fresh service process.
func measure(bin, db string, sc scenario, n, batch int) (measurement, error) {
	rep, ver, err := against(bin, db, sc.args(), func(url, key string) (loadgen.Report, error) {
		return loadgen.Run(context.Background(), loadgen.Config{URL: url, Key: key, Events: n,
			Clients: sc.Clients, Batch: batch, Timeout: 3 * time.Minute})
	})
	return measurement{scenario: sc, Rep: rep, Ver: ver}, err
}

// against starts the service built at bin as its own process on the database db with args,
// runs load against it, stops it with SIGTERM, waits for its exit and checks the database for
// exactly-once delivery of what load reported acknowledged.
func against(bin, db string, args []string, load func(url, key string) (loadgen.Report, error)) (loadgen.Report, loadgen.Verification, error) {
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-db", db, "-q"}, args...)...)
	cmd.Stderr = os.Stderr // errors only (-q): alerts are not logged
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return loadgen.Report{}, loadgen.Verification{}, err
	}
	if err := cmd.Start(); err != nil {
		return loadgen.Report{}, loadgen.Verification{}, err
	}
	defer cmd.Process.Kill() // after a clean exit this does nothing
	url, key, err := greeting(stdout)
	if err != nil {
		return loadgen.Report{}, loadgen.Verification{}, err
	}
	go io.Copy(io.Discard, stdout)
	rep, err := load(url, key)
	if err != nil {
		return rep, loadgen.Verification{}, err
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return rep, loadgen.Verification{}, err
	}
	if err := cmd.Wait(); err != nil {
		return rep, loadgen.Verification{}, fmt.Errorf("service exit: %w", err)
	}
	ver, err := loadgen.Verify(context.Background(), db, rep.Prefix, rep.Acked)
	return rep, ver, err
}

// greeting reads the service's first lines: its URL and the demo key.
func greeting(r io.Reader) (url, key string, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "dashboard: "); ok {
			url = strings.TrimSuffix(u, "/")
		}
		if _, k, ok := strings.Cut(line, "only its hash is stored): "); ok {
			key = k
		}
		if url != "" && key != "" {
			return url, key, nil
		}
	}
	return "", "", fmt.Errorf("the service did not print its URL and key (%v)", sc.Err())
}

// median returns the run with the median events per second (the lower middle of an even
// count), with its own latencies.
func median(runs []measurement) measurement {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b measurement) int { return cmp.Compare(a.Rep.EventsPerSec, b.Rep.EventsPerSec) })
	return s[(len(s)-1)/2]
}

func machine() string {
	return fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
}
