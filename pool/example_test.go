package pool_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/pool"
)

func ExampleRun() {
	shout := func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }
	words := slices.Values([]string{"stage", "coach", "runs", "typed", "stages"})
	for word, err := range pool.Run(context.Background(), words, shout, pool.Workers(3), pool.Ordered()) {
		fmt.Println(word, err)
	}
	// Output:
	// STAGE <nil>
	// COACH <nil>
	// RUNS <nil>
	// TYPED <nil>
	// STAGES <nil>
}

func ExampleRun_errors() {
	errOdd := errors.New("odd")
	even := func(_ context.Context, n int) (int, error) {
		if n%2 == 1 {
			return 0, errOdd
		}
		return n * 10, nil
	}
	// Each failed item comes back as it went in, with its error; the others carry on.
	for n, err := range pool.Run(context.Background(), slices.Values([]int{1, 2, 3, 4}), even, pool.Ordered()) {
		fmt.Println(n, err)
	}
	// Output:
	// 1 odd
	// 20 <nil>
	// 3 odd
	// 40 <nil>
}

func ExampleFailFast() {
	errBad := errors.New("bad input")
	parse := func(_ context.Context, s string) (string, error) {
		if s == "" {
			return "", errBad
		}
		return "ok:" + s, nil
	}
	src := slices.Values([]string{"a", "b", "", "c", "d"})
	for v, err := range pool.Run(context.Background(), src, parse, pool.FailFast(), pool.Workers(1)) {
		fmt.Printf("%q %v\n", v, err)
	}
	// Output:
	// "ok:a" <nil>
	// "ok:b" <nil>
	// "" bad input
}

func ExampleRunChan() {
	src := make(chan int)
	go func() {
		defer close(src)
		for i := 1; i <= 3; i++ {
			src <- i
		}
	}()
	square := func(_ context.Context, n int) (int, error) { return n * n, nil }
	for r := range pool.RunChan(context.Background(), src, square, pool.Ordered()) {
		fmt.Println(r.Value, r.Err)
	}
	// Output:
	// 1 <nil>
	// 4 <nil>
	// 9 <nil>
}

// Example_machine runs a state machine of stages through the pool: its Do method is the work func.
func Example_machine() {
	type job struct {
		n    int
		path string
	}
	step := func(name string, next func(job) string) fsm.StageFunc[string, job] {
		return func(_ context.Context, j job) (job, string, error) {
			j.path += name + " "
			return j, next(j), nil
		}
	}
	m, err := fsm.NewBuilder[string, job]().
		Stage("parse", step("parse", func(j job) string {
			if j.n%2 == 0 {
				return "even"
			}
			return "odd"
		}), "even", "odd").
		Stage("even", step("even", func(job) string { return "done" }), "done").
		Stage("odd", step("odd", func(job) string { return "done" }), "done").
		Terminal("done").
		Build("parse")
	if err != nil {
		panic(err)
	}
	jobs := slices.Values([]job{{n: 1}, {n: 2}, {n: 3}})
	for j, err := range pool.Run(context.Background(), jobs, m.Do, pool.Ordered()) {
		fmt.Println(j.n, j.path, err)
	}
	// Output:
	// 1 parse odd  <nil>
	// 2 parse even  <nil>
	// 3 parse odd  <nil>
}
