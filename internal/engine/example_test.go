package engine_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/stagecoach-go/stagecoach/internal/engine"
	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// A run of items that goes on after the item whose func panicked, as pool and group run theirs.
func ExampleGuard() {
	work := func(v int) int {
		if v == 2 {
			panic("two")
		}
		return v * 10
	}
	items := []int{1, 2, 3}
	errs := make([]error, len(items))
	out := make([]int, len(items))
	for i := 0; i < len(items); {
		engine.Guard(func() {
			for ; i < len(items); i++ {
				out[i] = work(items[i])
			}
		}, func(err error) {
			errs[i] = err // i is the item that did not end
			i++
		})
	}
	var pe *panics.Error
	fmt.Println(out, errs[1], errors.As(errs[1], &pe))
	// Output: [10 0 30] panic: two true
}

func ExampleServiceTime() {
	var st engine.ServiceTime
	fmt.Println(st.Fit(20*time.Microsecond, 256)) // not timed yet
	st.Learn(99900*time.Nanosecond, 100)          // 1 us an item (999 ns, plus 1)
	fmt.Println(st.Fit(20*time.Microsecond, 256))
	st.Learn(time.Second, 1) // one stalled run: counted as 2 us at most, so 1.25 us
	fmt.Println(st.Fit(20*time.Microsecond, 256))
	// Output:
	// 1
	// 20
	// 16
}
