package group_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/group"
)

// policySpec is one group of TestStressPoliciesExactlyOnce.
type policySpec struct {
	n        int
	mode     string
	weight   int           // 0: none
	maxWait  time.Duration // 0: none
	deadline time.Duration // the submitting context's timeout; 0: none
	attempts int           // 0: no Retry
	fails    int           // item i fails with a retryable error its first i % (fails+1) runs
	failFast bool
}

func (sp policySpec) options() []group.GroupOption {
	opts := []group.GroupOption{group.Window(1 + sp.n/2)}
	switch sp.mode {
	case "ordered":
		opts = append(opts, group.Ordered())
	case "serial":
		opts = append(opts, group.Serial())
	}
	if sp.weight > 0 {
		opts = append(opts, group.Weight(sp.weight))
	}
	if sp.maxWait > 0 {
		opts = append(opts, group.MaxWait(sp.maxWait))
	}
	if sp.attempts > 0 {
		opts = append(opts, group.Retry(group.RetryPolicy{Attempts: sp.attempts, Backoff: 20 * time.Microsecond, MaxBackoff: 200 * time.Microsecond}))
	}
	if sp.failFast {
		opts = append(opts, group.FailFast())
	}
	return opts
}

// Exactly one result per accepted item with weights, queue-wait limits, submitting deadlines,
// retries and fail-fast drawn at random over 1 to 8 workers: a success is the item's own result,
// in order where asked; every failure is one the group's policies allow (a transient error not
// retried or out of attempts, an expiry, a fail-fast end); an item that expired never ran.
func TestStressPoliciesExactlyOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		workers := rapid.IntRange(1, 8).Draw(t, "workers")
		specs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) policySpec {
			return policySpec{
				n:        rapid.IntRange(0, 200).Draw(t, "n"),
				mode:     rapid.SampledFrom([]string{"plain", "ordered", "serial"}).Draw(t, "mode"),
				weight:   rapid.IntRange(0, 4).Draw(t, "weight"),
				maxWait:  time.Duration(rapid.IntRange(0, 300).Draw(t, "maxWaitUs")) * time.Microsecond,
				deadline: time.Duration(rapid.IntRange(0, 2000).Draw(t, "deadlineUs")) * time.Microsecond,
				attempts: rapid.IntRange(0, 4).Draw(t, "attempts"),
				fails:    rapid.IntRange(0, 3).Draw(t, "fails"),
				failFast: rapid.IntRange(0, 4).Draw(t, "failFast") == 0,
			}
		}), 1, 6).Draw(t, "groups")
		runs := make([]map[int]*atomic.Int32, len(specs)) // runs of each item's work func
		for k, sp := range specs {
			runs[k] = map[int]*atomic.Int32{}
			for i := range sp.n {
				runs[k][i] = &atomic.Int32{}
			}
		}
		work := func(_ context.Context, v [2]int) ([2]int, error) {
			sp := specs[v[0]]
			if runs[v[0]][v[1]].Add(1) <= int32(v[1]%(sp.fails+1)) {
				return v, group.Retryable(errTransient)
			}
			return [2]int{v[0], 2 * v[1]}, nil
		}
		r := group.New[int](work, group.Workers(workers))
		defer func() {
			if err := r.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		}()
		problems := make([][]string, len(specs))
		var wg sync.WaitGroup
		for k, sp := range specs {
			g, err := r.Open(context.Background(), k, sp.options()...)
			if err != nil {
				t.Fatal(err)
			}
			var accepted []int
			submitted := make(chan struct{})
			go func() {
				defer close(submitted)
				defer g.Close()
				for i := range sp.n {
					ctx, cancel := context.Background(), context.CancelFunc(func() {})
					if sp.deadline > 0 {
						ctx, cancel = context.WithTimeout(ctx, sp.deadline)
					}
					err := g.Submit(ctx, [2]int{k, i})
					defer cancel() // once every item is submitted
					if err != nil {
						if sp.failFast || sp.deadline > 0 {
							return
						}
						problems[k] = append(problems[k], fmt.Sprintf("submit %d: %v", i, err))
						return
					}
					accepted = append(accepted, i)
				}
			}()
			wg.Go(func() {
				fail := func(format string, args ...any) {
					problems[k] = append(problems[k], fmt.Sprintf(format, args...))
				}
				got := map[int]int{}
				var order []int
				for v, err := range g.Results() {
					item := v[1]
					if err == nil {
						item /= 2
					}
					got[item]++
					order = append(order, item)
					switch {
					case err == nil:
					case errors.Is(err, group.ErrExpired):
						if n := runs[k][item].Load(); n != 0 {
							fail("item %d expired after %d runs", item, n)
						}
					case errors.Is(err, group.ErrGroupFailed) && sp.failFast:
					case sp.deadline > 0 && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)):
						// a retry given up: the submitting context ended (its deadline, or the
						// submitter's cancel once it has submitted everything)
					case errors.Is(err, errTransient):
						var ae *group.AttemptsError
						if sp.attempts > 1 && !sp.failFast && (!errors.As(err, &ae) || ae.Attempts != sp.attempts) {
							fail("item %d: %v: not after %d attempts", item, err, sp.attempts)
						}
					default:
						fail("item %d: unexpected error %v", item, err)
					}
				}
				<-submitted
				if len(got) != len(accepted) {
					fail("%d items with a result, %d accepted", len(got), len(accepted))
				}
				for _, i := range accepted {
					if got[i] != 1 {
						fail("item %d: %d results", i, got[i])
					}
				}
				if sp.mode != "plain" && !slices.Equal(accepted, order) {
					fail("results in order %v, submitted %v", order, accepted)
				}
			})
		}
		wg.Wait()
		for k, p := range problems {
			if len(p) > 0 {
				t.Fatalf("workers %d, group %d %+v: %v", workers, k, specs[k], p)
			}
		}
	})
}
