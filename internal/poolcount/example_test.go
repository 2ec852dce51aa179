package poolcount_test

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/stagecoach-go/stagecoach/internal/poolcount"
)

func Example() {
	p := poolcount.New[int]()
	half := func(_ context.Context, v int) (int, error) {
		if v%2 != 0 {
			return v, errors.New("odd")
		}
		return v / 2, nil
	}
	for range p.Run(context.Background(), slices.Values([]int{2, 4, 5, 8}), half) {
	}
	s := p.Stats()
	fmt.Println(s.Submitted, s.Completed, s.Failed, s.Queued, s.InFlight)
	// Output:
	// 4 3 1 0 0
}
