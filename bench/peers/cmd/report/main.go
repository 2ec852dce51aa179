// Command report runs the benchmark suites of Stagecoach and its peers with -count, and writes
// docs/benchmarks.md with tables and SVG charts, and the raw output beside it for benchstat.
// With -from it rebuilds the page and the charts from a raw output written before, without
// running anything: the suites' output, or any go test -bench output of bench.Compare on one's
// own stages, whose benchmarks get a table and a bar chart each.
//
//	cd bench/peers && go run ./cmd/report            # -count 5 -benchtime 1x
//	go run ./cmd/report -short -count 1 -out /tmp/x  # small workloads: checks that it all works
//	go run ./cmd/report -count 10 -out ../../docs
//	go run ./cmd/report -from ../../docs/benchmarks.txt
//	go run ./cmd/report -from ~/shop/orders.txt -out ~/shop/docs
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/stagecoach-go/stagecoach/bench/peers/report"
)

func main() {
	count := flag.Int("count", 5, "runs of every benchmark (go test -count)")
	benchtime := flag.String("benchtime", "1x", "go test -benchtime; one op is a whole workload of 100k to 1M items")
	out := flag.String("out", filepath.Join("..", "..", "docs"), "the docs folder to write into")
	from := flag.String("from", "", "rebuild benchmarks.md and the charts from this raw output instead of running the benchmarks")
	short := flag.Bool("short", false, "run the benchmarks with go test -short: small workloads, a check that the report works, not figures to publish")
	flag.Parse()
	var err error
	if *from != "" {
		err = rebuild(*from, *out)
	} else {
		err = run(*count, *benchtime, *short, *out)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// suites are the go test runs of the report: every benchmark of this module (the workloads on
// every design and peer), and the ones of the bench package that have no peer version.
func suites(count int, benchtime string, short bool) [][]string {
	flags := []string{"test", "-run", "^$", "-count", fmt.Sprint(count), "-benchtime", benchtime}
	if short {
		flags = append(flags, "-short")
	}
	return [][]string{
		append(append([]string{}, flags...), "-bench", ".", "."),
		append(append([]string{}, flags...), "-bench", "^Benchmark(Fairness|GroupMemory|WeightedShares|ShedLoad|Retry)$", "github.com/stagecoach-go/stagecoach/bench"),
	}
}

// run runs the suites, keeps their output with a header saying how it was taken, and writes the
// page from it.
func run(count int, benchtime string, short bool, out string) error {
	var raw bytes.Buffer
	shortFlag := ""
	if short {
		shortFlag = " -short"
	}
	fmt.Fprintf(&raw, "%s: %s\n%s: cd bench/peers && go run ./cmd/report -count %d -benchtime %s%s\n",
		report.ConfigGoVersion, runtime.Version(), report.ConfigCommand, count, benchtime, shortFlag)
	for _, args := range suites(count, benchtime, short) {
		log.Printf("go %s", strings.Join(args, " "))
		cmd := exec.Command("go", args...)
		cmd.Stdout = io.MultiWriter(&raw, os.Stderr)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "benchmarks.txt"), raw.Bytes(), 0o644); err != nil {
		return err
	}
	return write(out, raw.Bytes())
}

// rebuild writes the page from a raw output file.
func rebuild(from, out string) error {
	raw, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return write(out, raw)
}

// write parses raw and writes benchmarks.md and the charts into out.
func write(out string, raw []byte) error {
	parsed, err := report.Parse(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("parsing the benchmark output: %w", err)
	}
	if len(parsed.Order) == 0 {
		return fmt.Errorf("the benchmark output has no benchmark results")
	}
	intro := preface
	if !parsed.Suites() {
		intro = comparePreface
	}
	page := report.Build(parsed, report.EnvOf(parsed), intro)
	if err := os.MkdirAll(filepath.Join(out, "charts"), 0o755); err != nil {
		return err
	}
	for name, svg := range page.Charts {
		if err := os.WriteFile(filepath.Join(out, "charts", name), []byte(svg), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(out, "benchmarks.md"), []byte(page.Markdown), 0o644)
}

// comparePreface heads a page made of bench.Compare output alone.
const comparePreface = `# Benchmarks

Every design of Stagecoach on the same stages with bench.Compare: ` + "`direct`" + ` calls (the limit),
` + "`hand`" + ` (the pipeline by hand: a goroutine a stage, channels buffered to 64), ` + "`pipe`" + `, ` + "`pool`" + `,
` + "`pool-slice`" + ` and ` + "`group`" + `, every result of every run checked against direct calls.
`

const preface = `# Benchmarks

Stagecoach's designs (` + "`pipe`" + `: a goroutine per stage, channels between them; ` + "`pool`" + `: a
worker carries each item through an fsm.Machine; ` + "`group`" + `: request groups over one set of
workers) against direct calls, the pipeline by hand and the libraries a Go user would otherwise
pick, on the same stage funcs and the same checks. ` + "`hand`" + ` is the seed blog's pipeline written out
plainly (a goroutine a stage, channels buffered to 64, a ` + "`select`" + ` on the context when sending, a
plain ` + "`range`" + ` when receiving, the first error cancelling the rest): the reference for "channel per
stage", which ` + "`pipe`" + ` is measured against. The raw ` + "`go test`" + ` output is in
[benchmarks.txt](benchmarks.txt), for benchstat.

Run the benchmarks and regenerate this page (about eight minutes at -count 5):

    cd bench/peers && go run ./cmd/report

Rebuild this page and its charts from the raw output, without running anything:

    cd bench/peers && go run ./cmd/report -from ../../docs/benchmarks.txt

Peers: rill v0.8.1 (a ` + "`rill.Map`" + ` a stage), conc v0.3.0 (` + "`stream`" + `, a task an item),
pond v2.7.1 (a result pool, a task group a stream), errgroup (x/sync v0.24.0, ` + "`SetLimit`" + `),
each with GOMAXPROCS workers.

W4 (I/O-bound stages) is run at concurrency 16, 256 and 1024: ` + "`pool`" + ` and ` + "`group`" + ` with that many
workers (and a window of twice as many for the group), ` + "`pipe`" + ` and rill with that many workers a stage
(so up to four times as many waits at once), conc, pond and errgroup with that many tasks at once,
direct calls on that many goroutines. A stage waits on a simulated device whose clock sleeps on a
thread of its own: a 100 us ` + "`time.Sleep`" + ` lasts about 1 ms on Linux in an otherwise idle process. The
ideal time uses the length of one wait measured before the run; wait-ns in the raw output is the
wait the stages saw during it.

Request/response and open loop: every design and peer serves all its clients from one instance. ` + "`group`" + `: one
router, a group a client connection, each call submitting one item and pulling its result. The
promise design: one ` + "`pipe`" + ` pipeline, a stage a goroutine as in the seed documents, each request
carrying its connection's reply channel; rill the same with a ` + "`rill.Map`" + ` a stage. conc, pond and
errgroup: one shared pool, a task a request (pond's future, or a reply channel). ` + "`hand`" + `: the promise
design by hand, the blog's pipeline with a reply channel in each request. ` + "`goroutine`" + ` (open loop only):
a goroutine a request. Direct calls run the work func on the client's goroutine. The closed-loop
request/response table is for throughput; latency under a given arrival rate is the open-loop
section's.

` + compareSection + `

**stagedpipe is not in these tables**: its pinned dependency github.com/gostdlib/concurrency
could not be downloaded where they were made. It was measured once on the same kind of 2-core
machine, built from source, in the same run as Stagecoach and on the same stage funcs: used as its
README shows, it costs 1,731 ns an item on W3 (` + "`group`" + `: 42 ns); when its user packs 100 items
into each request by hand, 22.4 ns on W3 and 27.4 ns on W1 (` + "`pool`" + `: 28.4 ns on W1). Hand
batching of that kind is the one way a peer has matched or beaten Stagecoach: it is on a par with
` + "`pool`" + ` on W1 and twice as fast as ` + "`group`" + ` on W3.
`

// compareSection tells a user how to compare the designs on their own stages; README.md carries
// the same section.
const compareSection = "## Compare the designs on your own stages\n\n" +
	"`bench.Compare` runs every design on your own item type and stages, one sub-benchmark a design with stable names " +
	"(`direct`, `hand`, `pipe`, `pool`, `pool-slice`, `group`), and checks every result of every run against direct " +
	"calls of your stages: a design that gets an item wrong, or a stage that fails, panics or is not deterministic, fails " +
	"the benchmark with the design and the item.\n\n" +
	"```go\n" +
	"func BenchmarkOrders(b *testing.B) {\n" +
	"\torders := shop.Cart(10_000) // your own items: []shop.Order\n" +
	"\tstages := []func(context.Context, shop.Order) (shop.Order, error){shop.Price, shop.Discount, shop.Tax}\n" +
	"\tbench.Compare(b, orders, stages, bench.CompareGroups(4))\n" +
	"}\n" +
	"```\n\n" +
	"`go test -run '^$' -bench Orders -count 6 . | tee orders.txt` prints one line a design (" + compareSample + "):\n\n" +
	"```\n" + compareOutput + "```\n\n" +
	"`bench.CompareWorkers(n)` sets the workers of `direct`, `pool`, `pool-slice` and `group`; `bench.CompareGroups(n)` " +
	"splits the input over n groups in `group`; `bench.CompareOnly(\"hand\", \"pool\")` runs a subset; " +
	"`bench.CompareEqual(eq)` replaces `reflect.DeepEqual`; `bench.CheckDesigns` runs the same check once, in a test. " +
	"Compare `-count 6` runs of two versions with benchstat, or turn the output into tables and SVG charts like these:\n\n" +
	"    cd bench/peers && go run ./cmd/report -from /path/to/orders.txt -out /path/to/docs\n"

// compareSample says where compareOutput comes from.
const compareSample = "here one run of bench/internal/shop, which holds this benchmark, on a quiet 2-core machine (one run: read it for the format and the order of the designs, not as figures to quote)"

// compareOutput is what go test printed for BenchmarkOrders.
const compareOutput = "BenchmarkOrders/direct-2            \t     980\t   1219786 ns/op\t        28.82 B/item\t         1.400 allocs/item\t       122.0 ns/item\nBenchmarkOrders/hand-2              \t     162\t   7521043 ns/op\t        31.10 B/item\t         1.403 allocs/item\t       752.1 ns/item\nBenchmarkOrders/pipe-2              \t     181\t   6289209 ns/op\t        31.16 B/item\t         1.405 allocs/item\t       628.9 ns/item\nBenchmarkOrders/pool-2              \t     632\t   2061212 ns/op\t        52.67 B/item\t         1.405 allocs/item\t       206.1 ns/item\nBenchmarkOrders/pool-slice-2        \t     586\t   2249499 ns/op\t       100.9 B/item\t         1.401 allocs/item\t       224.9 ns/item\nBenchmarkOrders/group-2             \t     520\t   2058838 ns/op\t        36.77 B/item\t         1.411 allocs/item\t       205.9 ns/item\n"
