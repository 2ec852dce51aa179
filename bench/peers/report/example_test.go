package report_test

import (
	"fmt"
	"strings"

	"github.com/stagecoach-go/stagecoach/bench/peers/report"
)

func ExampleParse() {
	out := "BenchmarkW1/pool-2 1 5 ns/op 40 ns/item\nBenchmarkW1/pool-2 1 5 ns/op 44 ns/item\nBenchmarkW1/pool-2 1 5 ns/op 50 ns/item\n"
	run, _ := report.Parse(strings.NewReader(out))
	st, _ := run.Stat(report.Key{Workload: "W1", Impl: "pool"}, "ns/item")
	fmt.Printf("median %.0f, spread %.0f%%, %d runs\n", st.Median, 100*st.Spread, st.N)
	// Output: median 44, spread 14%, 3 runs
}
