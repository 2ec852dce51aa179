package report

import (
	"bufio"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Key names one benchmark: BenchmarkStages/pool/stages=4 is {Workload: "Stages", Impl: "pool",
// Param: "stages=4"}.
type Key struct {
	Workload, Impl, Param string
}

// Run is everything parsed from one or more benchmark outputs.
type Run struct {
	CPU     string
	Procs   int                          // GOMAXPROCS, from the -N suffix of the names; 0 if none
	Config  map[string]string            // the configuration lines (goos: linux), last value wins
	Samples map[Key]map[string][]float64 // unit -> one value a -count run
	Order   []Key                        // first-seen order
}

var (
	line   = regexp.MustCompile(`^Benchmark(\S+?)(?:-(\d+))?\s+\d+\s+(.+)$`)
	config = regexp.MustCompile(`^([a-z][^\sA-Z:]*):\s*(.*)$`)
)

// Parse reads benchmark output in the Go benchmark format and collects its metrics and its
// configuration lines. Lines of any other kind are skipped.
func Parse(r io.Reader) (*Run, error) {
	run := &Run{Samples: map[Key]map[string][]float64{}, Config: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		text := sc.Text()
		if m := config.FindStringSubmatch(text); m != nil {
			run.Config[m[1]] = m[2]
			continue
		}
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		if m[2] != "" {
			run.Procs, _ = strconv.Atoi(m[2])
		}
		run.add(splitName(m[1]), m[3])
	}
	run.CPU = run.Config["cpu"]
	return run, sc.Err()
}

func splitName(name string) Key {
	parts := strings.SplitN(name, "/", 3)
	k := Key{Workload: parts[0]}
	if len(parts) > 1 {
		k.Impl = parts[1]
	}
	if len(parts) > 2 {
		k.Param = parts[2]
	}
	return k
}

func (run *Run) add(k Key, metrics string) {
	fields := strings.Fields(metrics)
	if _, ok := run.Samples[k]; !ok {
		run.Samples[k] = map[string][]float64{}
		run.Order = append(run.Order, k)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			continue
		}
		run.Samples[k][fields[i+1]] = append(run.Samples[k][fields[i+1]], v)
	}
}

// Stat is the median of a metric over the runs, and its spread: the largest distance from the
// median to a run, as a fraction of the median.
type Stat struct {
	Median, Spread float64
	N              int
}

// Stat summarises unit of benchmark k; ok is false if it has no such metric.
func (run *Run) Stat(k Key, unit string) (Stat, bool) {
	vs := slices.Clone(run.Samples[k][unit])
	if len(vs) == 0 {
		return Stat{}, false
	}
	slices.Sort(vs)
	med := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		med = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	s := Stat{Median: med, N: len(vs)}
	if med != 0 {
		s.Spread = max(med-vs[0], vs[len(vs)-1]-med) / med
	}
	return s, true
}

// Params returns the parameters workload ran with for impl (clients=64), in first-seen order.
func (run *Run) Params(workload, impl string) []string {
	var params []string
	for _, k := range run.Order {
		if k.Workload == workload && k.Impl == impl {
			params = append(params, k.Param)
		}
	}
	return params
}

// Impls returns the implementations that ran workload, in first-seen order.
func (run *Run) Impls(workload string) []string {
	var impls []string
	for _, k := range run.Order {
		if k.Workload == workload && !slices.Contains(impls, k.Impl) {
			impls = append(impls, k.Impl)
		}
	}
	return impls
}
