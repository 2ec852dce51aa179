package group_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

// stressRuns is how many random routers each stress test runs; scripts/test raises it for its
// stress pass.
var stressRuns = flag.Int("stress.runs", 30, "routers run by each stress test")

// stressGroup is one group of a stress run and what it saw.
type stressGroup struct {
	key      int
	n        int
	window   int
	mode     string // plain, ordered or serial
	cancelAt int    // cancel the group's context after this many submissions (-1: never)
	try      bool   // submit with TrySubmit, retrying when the window is full
	all      bool   // submit with SubmitAll, in runs of random lengths (unless try)
	failAt   int    // the item whose work func fails (-1: none)
	failFast bool   // the group ends at its first failure
	leave    string // how the reader leaves its range early: "", break, panic or goexit
	leaveAt  int    // the reader leaves its range after this many results of it

	accepted []int         // items Submit accepted, in order
	errs     map[int]error // the error results, by item
	got      map[int]int   // result count by item
	order    []int         // items of the results, in the order read
	running  atomic.Int32  // items of the group running now
	overlap  atomic.Bool   // two items of a serial group ran at once
}

func (sg *stressGroup) options() []group.GroupOption {
	opts := []group.GroupOption{group.Window(sg.window)}
	switch sg.mode {
	case "ordered":
		opts = append(opts, group.Ordered())
	case "serial":
		opts = append(opts, group.Serial())
	}
	if sg.failFast {
		opts = append(opts, group.FailFast())
	}
	return opts
}

// errStress is the failure of a stress group's failAt item.
var errStress = errors.New("the stress item fails")

// Many groups at once, with random windows, modes, worker counts, cancellations, submit styles,
// failing items, fail-fast groups, and readers that leave their range early by a break, a
// recovered panic or runtime.Goexit and range again: every accepted item gets exactly one result, in its own
// group, in order where asked, and no two items of a serial group run at once. An error result is
// the failing item's own, the context's end, or (fail-fast) the group's first failure.
func TestStressGroupsExactlyOnce(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 3))
	for run := range *stressRuns {
		groups := make([]*stressGroup, 1+rng.IntN(12))
		for i := range groups {
			groups[i] = &stressGroup{
				key: i, n: rng.IntN(3000), window: 1 + rng.IntN(300),
				mode: []string{"plain", "ordered", "serial"}[rng.IntN(3)], cancelAt: -1,
				try: rng.IntN(4) == 0, all: rng.IntN(3) == 0, got: map[int]int{}, errs: map[int]error{},
				failAt: -1, failFast: rng.IntN(3) == 0,
				leave: []string{"", "break", "panic", "goexit"}[rng.IntN(4)], leaveAt: 1 + rng.IntN(100),
			}
			if rng.IntN(5) == 0 {
				groups[i].cancelAt = rng.IntN(groups[i].n + 1)
			}
			if rng.IntN(3) == 0 {
				groups[i].failAt = rng.IntN(groups[i].n + 1)
			}
		}
		byKey := func(k int) *stressGroup { return groups[k] }
		work := func(_ context.Context, v [2]int) ([2]int, error) {
			sg := byKey(v[0])
			if sg.running.Add(1) > 1 && sg.mode == "serial" {
				sg.overlap.Store(true)
			}
			if v[1]%7 == 0 {
				runtime.Gosched()
			}
			sg.running.Add(-1)
			if v[1] == sg.failAt {
				return v, errStress
			}
			return [2]int{v[0], v[1] * 2}, nil
		}
		r := group.New[int](work, group.Workers(1+rng.IntN(8)))
		var wg sync.WaitGroup
		for _, sg := range groups {
			wg.Go(func() { stressOne(t, r, sg) })
		}
		wg.Wait()
		require.NoError(t, r.Shutdown(context.Background()))
		for _, sg := range groups {
			what := fmt.Sprintf("seed %d run %d group %d (n %d, window %d, %s, cancel at %d, try %v, all %v, fail at %d, fail-fast %v, leave %q at %d)",
				seed, run, sg.key, sg.n, sg.window, sg.mode, sg.cancelAt, sg.try, sg.all, sg.failAt, sg.failFast, sg.leave, sg.leaveAt)
			require.Equal(t, len(sg.accepted), len(sg.got), "%s: items with a result, of the accepted ones", what)
			for _, v := range sg.accepted {
				require.Equal(t, 1, sg.got[v], "%s: item %d", what, v)
			}
			if sg.mode != "plain" {
				require.Equal(t, sg.accepted, sg.order, "%s: in submission order", what)
			}
			assert.False(t, sg.overlap.Load(), "%s: a serial group ran two items at once", what)
			for item, err := range sg.errs {
				switch {
				case item == sg.failAt && errors.Is(err, errStress) && !errors.Is(err, group.ErrGroupFailed):
				case sg.failFast && errors.Is(err, group.ErrGroupFailed) && errors.Is(err, errStress):
				case errors.Is(err, context.Canceled):
				default:
					t.Errorf("%s: item %d: unexpected error %v", what, item, err)
				}
			}
		}
	}
}

// stressOne submits a group's items from one goroutine and reads its results in another.
func stressOne(t *testing.T, r *group.Router[int, [2]int], sg *stressGroup) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := r.Open(ctx, sg.key, sg.options()...)
	if err != nil {
		t.Errorf("open %d: %v", sg.key, err)
		return
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		for !sg.readSome(t, g) {
		}
	}()
	if sg.all && !sg.try {
		sg.submitRuns(g, cancel)
		g.Close()
		<-read
		return
	}
	for i := range sg.n {
		if i == sg.cancelAt {
			cancel()
		}
		var err error
		if sg.try {
			for err = g.TrySubmit([2]int{sg.key, i}); errors.Is(err, group.ErrWindowFull); err = g.TrySubmit([2]int{sg.key, i}) {
				runtime.Gosched()
			}
		} else {
			err = g.Submit(context.Background(), [2]int{sg.key, i})
		}
		if err != nil {
			break
		}
		sg.accepted = append(sg.accepted, i)
	}
	g.Close()
	<-read
}

// submitRuns submits sg's items with SubmitAll in runs of random lengths, cancelling the group's
// context before the run that holds item sg.cancelAt, and records the items each run accepted:
// always the first ones of the run.
func (sg *stressGroup) submitRuns(g *group.Group[int, [2]int], cancel context.CancelFunc) {
	rng := rand.New(rand.NewPCG(uint64(sg.key), uint64(sg.n)))
	for i := 0; i < sg.n; {
		k := min(sg.n-i, 1+rng.IntN(2*sg.window+2))
		if sg.cancelAt >= i && sg.cancelAt < i+k {
			cancel()
		}
		run := make([][2]int, k)
		for j := range run {
			run[j] = [2]int{sg.key, i + j}
		}
		n, err := g.SubmitAll(context.Background(), run)
		for j := range n {
			sg.accepted = append(sg.accepted, i+j)
		}
		if err != nil {
			return
		}
		i += k
	}
}

// errLeave is the panic of a stress reader's loop body that leaves its range.
var errLeave = errors.New("the reader leaves its range")

// readSome ranges over g's results in a goroutine of its own, recording them, and leaves the
// range after sg.leaveAt results the way sg.leave says. It reports whether the range ended.
func (sg *stressGroup) readSome(t *testing.T, g *group.Group[int, [2]int]) (ended bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil && p != errLeave {
				panic(p)
			}
		}()
		n := 0
		for v, err := range g.Results() {
			sg.record(t, v, err)
			if n++; sg.leave != "" && n == sg.leaveAt {
				switch sg.leave {
				case "panic":
					panic(errLeave)
				case "goexit":
					runtime.Goexit()
				}
				return
			}
		}
		ended = true
	}()
	<-done
	return ended
}

// record notes one result the reader of sg read.
func (sg *stressGroup) record(t *testing.T, v [2]int, err error) {
	if v[0] != sg.key && err == nil {
		t.Errorf("group %d got an item of group %d", sg.key, v[0])
	}
	item := v[1]
	if err == nil {
		item /= 2
	} else {
		sg.errs[item] = err
	}
	sg.got[item]++
	sg.order = append(sg.order, item)
}
