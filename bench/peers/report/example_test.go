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

// Values within a factor of 10 of each other get a linear axis from zero; wider ranges a log axis
// between decades.
func ExampleNewAxis() {
	narrow := report.NewAxis([]float64{3648, 3910, 7931})
	wide := report.NewAxis([]float64{7.5, 59, 1030})
	fmt.Println(narrow.Log, narrow.Ticks, narrow.Caption("ns per item"))
	fmt.Println(wide.Log, wide.Ticks, wide.Caption("ns per item"))
	// Output:
	// false [0 2000 4000 6000 8000] ns per item
	// true [1 10 100 1000 10000] ns per item (log scale)
}

func ExampleFormatNs() {
	fmt.Println(report.FormatNs(850), report.FormatNs(40_100), report.FormatNs(1_234_000))
	// Output: 850 ns 40.1 µs 1.23 ms
}
