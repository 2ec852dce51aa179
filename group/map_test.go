package group_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/group"
)

// request and reply are the two types of a MapRouter's tests: a service's request in, its reply
// out.
type request struct {
	id int
}

type reply struct {
	id   int
	text string
}

// answer is the work func of the MapRouter tests: request 1 fails with errBoom, 2 panics, 3
// calls runtime.Goexit, 4 waits for its context to end; the others are answered.
func answer(ctx context.Context, q request) (reply, error) {
	if _, err := failing(ctx, q.id); err != nil {
		return reply{}, err
	}
	return reply{id: q.id, text: strconv.Itoa(2 * q.id)}, nil
}

func newMapRouter(t *testing.T, opts ...group.Option) *group.MapRouter[string, request, reply] {
	t.Helper()
	r := group.Map[string](answer, opts...)
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r
}

// mapResult submits q to a new group of key on r and returns its one result.
func mapResult(t *testing.T, r *group.MapRouter[string, request, reply], key string, q request, opts ...group.GroupOption) (reply, error) {
	t.Helper()
	g, err := r.Open(t.Context(), key, opts...)
	require.NoError(t, err)
	require.NoError(t, g.Submit(t.Context(), q))
	g.Close()
	var got []reply
	var errs []error
	for v, err := range g.Results() {
		got, errs = append(got, v), append(errs, err)
	}
	require.Len(t, got, 1, "one result for one item")
	return got[0], errs[0]
}

// A MapRouter's work func turns requests into replies; a failed request's result is the zero
// reply with an *Error carrying the key, wrapping an *ItemError carrying the request as submitted,
// wrapping the cause, whatever the failure: the work func's error, a panic, a Goexit, or the
// group's context ending before the request started.
func TestMapRouterFailedItemsCarryTheirItem(t *testing.T) {
	r := newMapRouter(t, group.Workers(2))
	out, err := mapResult(t, r, "ok", request{5})
	require.NoError(t, err)
	assert.Equal(t, reply{5, "10"}, out)

	tests := []struct {
		give string
		id   int
		want error // reached with errors.Is; nil: a *PanicError, reached with errors.As
	}{
		{"the work func's error", 1, errBoom},
		{"a panic", 2, nil},
		{"a Goexit", 3, group.ErrGoexit},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			out, err := mapResult(t, r, tt.give, request{tt.id})
			checkItemErr(t, tt.give, request{tt.id}, out, err)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			} else {
				var pe *group.PanicError
				assert.ErrorAs(t, err, &pe)
			}
		})
	}
	t.Run("the group's context ends", func(t *testing.T) {
		started := make(chan struct{}, 1)
		r := group.Map[string](func(ctx context.Context, q request) (reply, error) {
			if q.id == 4 {
				started <- struct{}{}
			}
			return answer(ctx, q)
		}, group.Workers(2))
		t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
		ctx, cancel := context.WithCancel(t.Context())
		g, err := r.Open(ctx, "ended", group.Serial())
		require.NoError(t, err)
		require.NoError(t, g.Submit(t.Context(), request{4})) // runs until ctx ends, and is answered
		<-started
		require.NoError(t, g.Submit(t.Context(), request{6})) // queued behind it: never starts
		cancel()
		var outs []reply
		var errs []error
		for out, err := range g.Results() {
			outs, errs = append(outs, out), append(errs, err)
		}
		require.Len(t, errs, 2, "a result for each request, in order (the group is serial)")
		require.NoError(t, errs[0], "request 4 started, and its work func answered it")
		assert.Equal(t, reply{4, "8"}, outs[0])
		checkItemErr(t, "ended", request{6}, outs[1], errs[1])
		assert.ErrorIs(t, errs[1], context.Canceled)
	})
}

// checkItemErr checks that err is the error of item q of group key of a MapRouter: an *Error
// with the key, wrapping an *ItemError with q, and that the reply out is the zero reply.
func checkItemErr(t *testing.T, key string, q request, out reply, err error) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, reply{}, out, "a failed request's reply is the zero reply")
	var ge *group.Error[string]
	if assert.ErrorAs(t, err, &ge) {
		assert.Equal(t, key, ge.Key)
		assert.Empty(t, ge.Op, "an item's result has no op")
	}
	var ie *group.ItemError[request]
	if assert.ErrorAs(t, err, &ie, "the error carries the item") {
		assert.Equal(t, q, ie.Item)
		assert.Equal(t, err.Error(), "group "+key+": "+ie.Err.Error(), "the text is the key and the cause")
	}
}

// A fail-fast MapRouter group's items that did not start after its first failure carry each its
// own item, not the failing one's.
func TestMapRouterFailFastItemsCarryTheirOwnItem(t *testing.T) {
	// Request 5 holds the one worker until all four are submitted: without it request 1 could
	// fail before 6 and 7 are in, and their Submit would be refused instead.
	submitted := make(chan struct{})
	r := group.Map[string](func(ctx context.Context, q request) (reply, error) {
		if q.id == 5 {
			<-submitted
		}
		return answer(ctx, q)
	}, group.Workers(1))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	g, err := r.Open(t.Context(), "ff", group.FailFast(), group.Serial())
	require.NoError(t, err)
	for _, id := range []int{5, 1, 6, 7} {
		require.NoError(t, g.Submit(t.Context(), request{id}))
	}
	close(submitted)
	g.Close()
	var items []request
	var errs []error
	for _, err := range g.Results() {
		var ie *group.ItemError[request]
		if err != nil && errors.As(err, &ie) {
			items = append(items, ie.Item)
		}
		errs = append(errs, err)
	}
	require.Len(t, errs, 4)
	assert.NoError(t, errs[0])
	assert.Equal(t, []request{{1}, {6}, {7}}, items, "each failed item's own request")
	assert.ErrorIs(t, errs[1], errBoom)
	assert.NotErrorIs(t, errs[1], group.ErrGroupFailed, "the first failure is the item's own")
	for _, err := range errs[2:] {
		assert.ErrorIs(t, err, group.ErrGroupFailed)
		assert.ErrorIs(t, err, errBoom, "the items not started name the first failure")
	}
}

// Map panics on a nil work func, naming itself.
func TestMapNilWorkPanics(t *testing.T) {
	assert.PanicsWithValue(t, "group: Map: nil work func", func() {
		group.Map[string, int, string](nil)
	})
}

// In steady state a MapRouter's group allocates nothing per item, as a Router's does.
func TestMapSteadyStateAllocatesNothing(t *testing.T) {
	skipAllocsUnderRace(t)
	r := group.Map[string](func(_ context.Context, v int) (int64, error) { return int64(v) * 2, nil }, group.Workers(2))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	g, err := r.Open(t.Context(), "g", group.Ordered())
	require.NoError(t, err)
	ctx := context.Background()
	round := func() {
		for i := range 200 {
			if err := g.Submit(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		for v, err := range g.Results() {
			if err != nil || v != int64(2*n) {
				t.Fatalf("result %d: %d, %v", n, v, err)
			}
			if n++; n == 200 {
				break
			}
		}
	}
	round() // warm up: the reader's buffers
	// 100 rounds: a collection that empties the router's pool of windows during one round costs
	// that round an allocation or two, which the average (rounded down) absorbs; one allocation
	// an item would be 200 a round.
	allocs := testing.AllocsPerRun(100, round)
	assert.LessOrEqual(t, allocs, 2.0, "allocations for 200 items")
	g.Close()
}

// Exactly one result per accepted item for the In -> Out form, with random workers, groups,
// sizes, modes, windows and failing items: a success is the work func's reply to its own request,
// in its own group, in submission order where asked; a failure is the zero reply with its own
// request and the group's key in its error.
func TestStressMapExactlyOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		workers := rapid.IntRange(1, 8).Draw(t, "workers")
		type spec struct {
			n, window int
			mode      string
			fail      map[int]bool
			failFast  bool
		}
		specs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) spec {
			n := rapid.IntRange(0, 300).Draw(t, "n")
			fail := map[int]bool{}
			for _, i := range rapid.SliceOfN(rapid.IntRange(0, max(0, n-1)), 0, 5).Draw(t, "fail") {
				fail[i] = n > 0
			}
			return spec{
				n: n, window: rapid.IntRange(1, 64).Draw(t, "window"),
				mode: rapid.SampledFrom([]string{"plain", "ordered", "serial"}).Draw(t, "mode"),
				fail: fail, failFast: rapid.Bool().Draw(t, "failFast"),
			}
		}), 1, 6).Draw(t, "groups")
		work := func(_ context.Context, q [2]int) (string, error) {
			if specs[q[0]].fail[q[1]] {
				return "", errBoom
			}
			if q[1]%5 == 0 {
				runtime.Gosched()
			}
			return strconv.Itoa(q[0]) + "/" + strconv.Itoa(q[1]), nil
		}
		r := group.Map[int](work, group.Workers(workers))
		defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
		var wg sync.WaitGroup
		problems := make([][]string, len(specs)) // each group's, found by its reader
		for k, sp := range specs {
			opts := []group.GroupOption{group.Window(sp.window)}
			switch sp.mode {
			case "ordered":
				opts = append(opts, group.Ordered())
			case "serial":
				opts = append(opts, group.Serial())
			}
			if sp.failFast {
				opts = append(opts, group.FailFast())
			}
			g, err := r.Open(context.Background(), k, opts...)
			require.NoError(t, err)
			var accepted []int
			submitted := make(chan struct{})
			go func() {
				defer close(submitted)
				defer g.Close()
				for i := range sp.n {
					if g.Submit(context.Background(), [2]int{k, i}) != nil {
						return // a fail-fast group ended
					}
					accepted = append(accepted, i)
				}
			}()
			wg.Go(func() {
				fail := func(format string, args ...any) {
					problems[k] = append(problems[k], fmt.Sprintf("group %d: ", k)+fmt.Sprintf(format, args...))
				}
				var order []int
				got := map[int]int{}
				for out, err := range g.Results() {
					item := -1
					if err == nil {
						var problem string
						if item, problem = replyItem(k, out); problem != "" {
							fail("%s", problem)
						}
					} else {
						var ie *group.ItemError[[2]int]
						var ge *group.Error[int]
						if !errors.As(err, &ie) || !errors.As(err, &ge) || ie.Item[0] != k || ge.Key != k || out != "" {
							fail("result (%q, %v): not a failed item of the group", out, err)
							continue
						}
						item = ie.Item[1]
						if !sp.fail[item] && !(sp.failFast && errors.Is(err, group.ErrGroupFailed)) {
							fail("item %d failed: %v", item, err)
						}
					}
					got[item]++
					order = append(order, item)
				}
				<-submitted
				if len(got) != len(accepted) {
					fail("%d items with a result, %d accepted", len(got), len(accepted))
				}
				for _, i := range accepted {
					if got[i] != 1 {
						fail("item %d has %d results", i, got[i])
					}
				}
				if sp.mode != "plain" && !slices.Equal(accepted, order) {
					fail("results in order %v, submitted %v", order, accepted)
				}
			})
		}
		wg.Wait()
		for _, p := range problems {
			if len(p) > 0 {
				t.Fatalf("workers %d: %v", workers, p)
			}
		}
	})
}

// replyItem returns the item number of a reply of group k, "k/i", or a problem.
func replyItem(k int, out string) (int, string) {
	before, after, ok := strings.Cut(out, "/")
	gk, err1 := strconv.Atoi(before)
	i, err2 := strconv.Atoi(after)
	if !ok || err1 != nil || err2 != nil || gk != k {
		return -1, fmt.Sprintf("group %d got the reply %q", k, out)
	}
	return i, ""
}
