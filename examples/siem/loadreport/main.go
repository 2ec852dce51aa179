// Command loadreport measures the SIEM service under load and writes the README's table and
// chart. For each scenario it starts the service as its own process (built from ./siem) on a
// fresh database, runs the load generator against it (package loadgen, the load command's
// code), stops the service with SIGTERM and checks the database for exactly-once delivery.
//
//	cd examples && go run ./siem/loadreport -readme siem/README.md
//
// It writes siem/docs/load.md (the tables), siem/docs/load.svg (the chart) and siem/docs/load.json
// (every run's measurements), and with -readme
// replaces the part of that file between the lines "<!-- load:begin -->" and
// "<!-- load:end -->" with the tables.
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

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("loadreport", flag.ContinueOnError)
	fl.SetOutput(stderr)
	n := fl.Int("n", 15000, "events a run")
	batch := fl.Int("batch", 10, "events a request")
	out := fl.String("out", filepath.Join("siem", "docs"), "directory for load.md and load.svg")
	readme := fl.String("readme", "", "README whose load section to replace with the tables")
	only := fl.String("only", "", "run only the scenarios of this table (designs, sqlite, workers)")
	runs := fl.Int("runs", 5, "runs of each scenario, interleaved; the median by events/s is reported")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *runs < 1 || *n < 1 || *batch < 1 {
		fmt.Fprintf(stderr, "loadreport: -runs %d, -n %d and -batch %d must be at least 1\n", *runs, *n, *batch)
		return 2
	}
	if err := report(*n, *batch, *runs, *out, *readme, *only, stdout); err != nil {
		fmt.Fprintln(stderr, "loadreport:", err)
		return 1
	}
	return 0
}

func report(n, batch, runs int, out, readme, only string, log io.Writer) error {
	tmp, err := os.MkdirTemp("", "loadreport")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "siem")
	build := exec.Command("go", "build", "-o", bin, "./siem")
	build.Stdout, build.Stderr = log, log
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build ./siem (run from the examples module): %w", err)
	}
	var todo []scenario
	for _, sc := range scenarios() {
		if only == "" || sc.Table == only {
			todo = append(todo, sc)
		}
	}
	// Interleave the runs, so that a change of the machine's load hits every scenario alike.
	all := make([][]measurement, len(todo))
	for r := range runs {
		for i, sc := range todo {
			m, err := measure(bin, filepath.Join(tmp, fmt.Sprintf("r%d-s%d.db", r, i)), sc, n, batch)
			if err != nil {
				return fmt.Errorf("%+v: %w", sc, err)
			}
			fmt.Fprintf(log, "run %d: %-7s %-5s c=%-3d %-10s w=%-3d %7.0f events/s p50 %v p99 %v; %v\n", r+1, sc.Table, sc.Design,
				sc.Clients, sc.SQLite, sc.Workers, m.Rep.EventsPerSec, m.Rep.P50.Round(time.Microsecond*10),
				m.Rep.P99.Round(time.Microsecond*10), m.Ver)
			if !m.Ver.ExactlyOnce() || m.Rep.Errors > 0 {
				return fmt.Errorf("%+v: %v, %d request errors (first: %s)", sc, m.Ver, m.Rep.Errors, m.Rep.FirstError)
			}
			all[i] = append(all[i], m)
		}
	}
	var ms []measurement
	for _, runs := range all {
		ms = append(ms, median(runs))
	}
	md := tables(ms, n, batch, runs)
	if err := os.WriteFile(filepath.Join(out, "load.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "load.svg"), []byte(chart(ms)), 0o644); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(all, "", "\t") // every run, for a later look
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "load.json"), raw, 0o644); err != nil {
		return err
	}
	if readme != "" {
		return replaceSection(readme, md)
	}
	return nil
}

// measure runs one scenario against a fresh service process.
func measure(bin, db string, sc scenario, n, batch int) (measurement, error) {
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-db", db, "-q"}, sc.args()...)...)
	cmd.Stderr = os.Stderr // errors only (-q): alerts are not logged
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return measurement{}, err
	}
	if err := cmd.Start(); err != nil {
		return measurement{}, err
	}
	defer cmd.Process.Kill() // after a clean exit this does nothing
	url, key, err := greeting(stdout)
	if err != nil {
		return measurement{}, err
	}
	go io.Copy(io.Discard, stdout)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, Key: key, Events: n,
		Clients: sc.Clients, Batch: batch, Timeout: 3 * time.Minute})
	if err != nil {
		return measurement{}, err
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return measurement{}, err
	}
	if err := cmd.Wait(); err != nil {
		return measurement{}, fmt.Errorf("service exit: %w", err)
	}
	ver, err := loadgen.Verify(context.Background(), db, rep.Prefix, rep.Acked)
	return measurement{scenario: sc, Rep: rep, Ver: ver}, err
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
