package loadgen_test

import (
	"fmt"
	"time"

	"github.com/stagecoach-go/stagecoach/examples/siem/loadgen"
)

func ExamplePercentile() {
	lat := []time.Duration{1 * time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond, 100 * time.Millisecond}
	fmt.Println(loadgen.Percentile(lat, 0.5), loadgen.Percentile(lat, 0.99), loadgen.Percentile(lat, 0))
	// Output: 3ms 100ms 1ms
}

func ExampleVerification() {
	v := loadgen.Verification{Acked: 1000, Unacked: 2}
	fmt.Println(v.ExactlyOnce(), v)
	// Output: true 1000 acknowledged: 0 missing, 0 duplicated, 2 stored unacknowledged
}

func ExampleSchedule() {
	fmt.Println(loadgen.Schedule(4, time.Second, loadgen.Constant, 0))
	at := loadgen.Schedule(1000, time.Second, loadgen.Poisson, 7)
	fmt.Println(len(at) > 900 && len(at) < 1100, at[0])
	// Output:
	// [0s 250ms 500ms 750ms]
	// true 0s
}
