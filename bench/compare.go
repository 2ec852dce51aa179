package bench

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"testing"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/pipe"
	"github.com/stagecoach-go/stagecoach/pool"
)

// CompareDesigns returns the names of the designs [Compare] runs, in the order it runs them: the
// names of its sub-benchmarks, stable from release to release so that benchstat can compare runs.
//
//   - direct: the stages called in order on [CompareWorkers] goroutines, each over a contiguous
//     range of the input; the limit, with no hand-over at all.
//   - hand: the pipeline of the seed blog post written by hand (see [Hand]): a source goroutine
//     and a goroutine a stage, channels buffered to 64, a select on the context when sending, a
//     plain range when receiving, the first error cancelling the rest.
//   - pipe: the same pipeline built with package pipe, a pipe.Map a stage with one worker.
//   - pool: pool.Run over the input with [CompareWorkers] workers, unordered, each worker running
//     an item through every stage.
//   - pool-slice: pool.Slice over the input, results in place.
//   - group: one group.Router of [CompareWorkers] workers for the whole sub-benchmark (a service
//     keeps one for its life); each run splits the input into [CompareGroups] contiguous ranges
//     and opens a group a range, a goroutine submitting its items and another reading its results.
func CompareDesigns() []string {
	return []string{"direct", "hand", "pipe", "pool", "pool-slice", "group"}
}

// A CompareOption configures [Compare] and [CheckDesigns].
type CompareOption struct {
	apply func(*compareConfig)
}

type compareConfig struct {
	workers int
	groups  int
	designs []string
	equal   any // a func(a, b T) bool of the items' type, or nil for reflect.DeepEqual
}

// CompareWorkers sets the goroutines of the fused designs: direct, pool, pool-slice and group
// (default GOMAXPROCS). hand and pipe keep one goroutine a stage, the design they stand for.
// CompareWorkers panics if n is below 1.
func CompareWorkers(n int) CompareOption {
	if n < 1 {
		panic(fmt.Sprintf("bench: CompareWorkers(%d): need at least 1 worker", n))
	}
	return CompareOption{func(c *compareConfig) { c.workers = n }}
}

// CompareGroups sets how many groups the input is split over in the group design, each a
// contiguous range of the input (default 1). With more groups than items, some groups are empty.
// CompareGroups panics if n is below 1.
func CompareGroups(n int) CompareOption {
	if n < 1 {
		panic(fmt.Sprintf("bench: CompareGroups(%d): need at least 1 group", n))
	}
	return CompareOption{func(c *compareConfig) { c.groups = n }}
}

// CompareOnly runs only the named designs (see [CompareDesigns]), still in the order of
// CompareDesigns. CompareOnly panics if names is empty or names a design that does not exist.
func CompareOnly(names ...string) CompareOption {
	if len(names) == 0 {
		panic("bench: CompareOnly(): name at least one design")
	}
	for _, n := range names {
		if !slices.Contains(CompareDesigns(), n) {
			panic(fmt.Sprintf("bench: CompareOnly(%q): no such design; the designs are %v", n, CompareDesigns()))
		}
	}
	names = slices.Clone(names)
	return CompareOption{func(c *compareConfig) { c.designs = names }}
}

// CompareEqual makes [Compare] and [CheckDesigns] compare a design's result with the direct calls'
// by eq instead of reflect.DeepEqual: for items with fields that differ from run to run without
// being wrong (a time, a pointer to a fresh buffer), or to compare floating-point values within a
// tolerance. T must be the type of the items given to Compare, which panics otherwise.
// CompareEqual panics if eq is nil.
func CompareEqual[T any](eq func(a, b T) bool) CompareOption {
	if eq == nil {
		panic("bench: CompareEqual(nil): need an equality func")
	}
	return CompareOption{func(c *compareConfig) { c.equal = eq }}
}

// CompareError is how a design failed [CheckDesigns] or a run of [Compare]: which design, which
// item (its index in the input, -1 if the failure is not an item's), and what went wrong.
type CompareError struct {
	Design string
	Item   int
	// Err is the stage's error (a *StagePanic if it panicked), or what differs from the direct
	// calls.
	Err error
}

func (e *CompareError) Error() string {
	if e.Item < 0 {
		return fmt.Sprintf("bench.Compare: %s: %v", e.Design, e.Err)
	}
	return fmt.Sprintf("bench.Compare: %s: item %d: %v", e.Design, e.Item, e.Err)
}

func (e *CompareError) Unwrap() error { return e.Err }

// StagePanic is the error of a stage that panicked under [Compare] or [CheckDesigns]: the stage's
// index, the value it panicked with and the stack of the goroutine that panicked.
type StagePanic struct {
	Stage int
	Value any
	Stack []byte
}

func (p *StagePanic) Error() string {
	return fmt.Sprintf("stage %d panicked: %v\n%s", p.Stage, p.Value, p.Stack)
}

// StageFailure is the error of a stage that returned one under [Compare] or [CheckDesigns].
type StageFailure struct {
	Stage int
	Err   error
}

func (f *StageFailure) Error() string { return fmt.Sprintf("stage %d: %v", f.Stage, f.Err) }
func (f *StageFailure) Unwrap() error { return f.Err }

// itemError is a stage failure on its way out of a design, with the index of its item.
type itemError struct {
	item int
	err  error
}

func (e *itemError) Error() string { return fmt.Sprintf("item %d: %v", e.item, e.err) }
func (e *itemError) Unwrap() error { return e.err }

// Compare benchmarks every design of [CompareDesigns] on the caller's own items and stages: one
// sub-benchmark a design, named for it, each reporting ns/item, B/item and allocs/item. The
// stages are the shape pipe, fsm (with a next state), pool and group take.
//
//	func BenchmarkOrders(b *testing.B) {
//		bench.Compare(b, orders, []func(context.Context, Order) (Order, error){price, tax, ship})
//	}
//
// Before anything is timed, the stages run over the input by direct calls, in order, on the
// calling goroutine: that is the reference. Every design's results, on its untimed first run and
// on every timed run, are then checked item by item against it, with reflect.DeepEqual or the func
// of [CompareEqual], outside the timer; a wrong, missing or repeated result, or a stage's error,
// fails the design's sub-benchmark with a message that names the design and the item. A stage that
// panics fails it the same way, with the stack. So a stage whose result depends on how often or in
// what order it is called fails the comparison. The input is run many times: stages must not
// change what the input items share with them (the backing array of a slice field, a map).
//
// The checks and the memory statistics are taken with the timer stopped, so a sub-benchmark takes
// a few times -benchtime of wall time. The numbers say what a design adds to the stages' own cost:
// with trivial stages, the cost of the design itself.
//
// Compare panics if b is nil, input is empty, stages is empty or holds a nil func, or an option
// does not fit (a [CompareEqual] of another type).
func Compare[T any](b *testing.B, input []T, stages []func(context.Context, T) (T, error), opts ...CompareOption) {
	if b == nil {
		panic("bench: Compare: b is nil")
	}
	cfg := newCompare(input, stages, opts)
	eq := equality[T](cfg, "Compare")
	b.Helper()
	ref, err := reference(input, stages)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range compareImpls[T]() {
		if !slices.Contains(cfg.designs, d.name) {
			continue
		}
		b.Run(d.name, func(b *testing.B) { measureDesign(b, d, cfg, input, stages, ref, eq) })
	}
}

// CheckDesigns runs every design of [CompareDesigns] (or those of [CompareOnly]) once over input
// and checks its results item by item against direct calls of the stages, as [Compare] does
// before it times anything. It returns the results of the direct calls and the first design's
// failure, a *CompareError; it is how to check the designs on one's own stages in a test, or to
// find which item a failing Compare is about. It panics as Compare does.
func CheckDesigns[T any](input []T, stages []func(context.Context, T) (T, error), opts ...CompareOption) ([]T, error) {
	cfg := newCompare(input, stages, opts)
	eq := equality[T](cfg, "CheckDesigns")
	ref, err := reference(input, stages)
	if err != nil {
		return nil, err
	}
	for _, d := range compareImpls[T]() {
		if !slices.Contains(cfg.designs, d.name) {
			continue
		}
		r := newResults[T](len(input))
		run, stop := d.open(cfg, input, stages, r)
		err := run()
		stop()
		if err == nil {
			err = r.check(d.name, ref, eq)
		}
		if err != nil {
			return ref, err
		}
	}
	return ref, nil
}

func newCompare[T any](input []T, stages []func(context.Context, T) (T, error), opts []CompareOption) compareConfig {
	if len(input) == 0 {
		panic("bench: Compare: input is empty: need at least one item")
	}
	if len(stages) == 0 {
		panic("bench: Compare: stages is empty: need at least one stage")
	}
	for i, s := range stages {
		if s == nil {
			panic(fmt.Sprintf("bench: Compare: stages[%d] is nil", i))
		}
	}
	cfg := compareConfig{workers: runtime.GOMAXPROCS(0), groups: 1, designs: CompareDesigns()}
	for _, o := range opts {
		if o.apply == nil {
			panic("bench: Compare: a zero CompareOption: make options with CompareWorkers, CompareGroups, CompareOnly or CompareEqual")
		}
		o.apply(&cfg)
	}
	return cfg
}

func equality[T any](cfg compareConfig, fn string) func(a, b T) bool {
	if cfg.equal == nil {
		return func(a, b T) bool { return reflect.DeepEqual(a, b) }
	}
	eq, ok := cfg.equal.(func(a, b T) bool)
	if !ok {
		panic(fmt.Sprintf("bench: %s: CompareEqual's func is a %T, but the items are of type %v", fn, cfg.equal, reflect.TypeFor[T]()))
	}
	return eq
}

// reference runs the stages over input in order on the calling goroutine.
func reference[T any](input []T, stages []func(context.Context, T) (T, error)) ([]T, error) {
	ref := make([]T, len(input))
	ctx := context.Background()
	for i, v := range input {
		out, err := applyAll(ctx, stages, v)
		if err != nil {
			return nil, &CompareError{Design: "direct calls in order (the reference)", Item: i, Err: err}
		}
		ref[i] = out
	}
	return ref, nil
}

// applyAll runs v through every stage, turning a stage's error into a *StageFailure and a panic
// into a *StagePanic.
func applyAll[T any](ctx context.Context, stages []func(context.Context, T) (T, error), v T) (out T, err error) {
	k := 0
	defer func() {
		if r := recover(); r != nil {
			err = &StagePanic{Stage: k, Value: r, Stack: debug.Stack()}
		}
	}()
	for k = range stages {
		if v, err = stages[k](ctx, v); err != nil {
			return v, &StageFailure{Stage: k, Err: err}
		}
	}
	return v, nil
}

// applyOne runs v through stage k, as applyAll does for every stage.
func applyOne[T any](ctx context.Context, k int, stage func(context.Context, T) (T, error), v T) (out T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &StagePanic{Stage: k, Value: r, Stack: debug.Stack()}
		}
	}()
	if v, err = stage(ctx, v); err != nil {
		return v, &StageFailure{Stage: k, Err: err}
	}
	return v, nil
}

// indexed is an item on its way through a design that does not keep input order, with its index.
type indexed[T any] struct {
	i int
	v T
}

// slots returns input[lo:hi] as a sequence of indexed items.
func slots[T any](input []T, lo, hi int) iter.Seq[indexed[T]] {
	return func(yield func(indexed[T]) bool) {
		for i := lo; i < hi; i++ {
			if !yield(indexed[T]{i, input[i]}) {
				return
			}
		}
	}
}

// results collects one run's results of a design by input index.
type results[T any] struct {
	out  []T
	seen []bool
	dup  int // an index that came back twice, or -1
	mu   sync.Mutex
	err  error // the first failure the design reported
}

func newResults[T any](n int) *results[T] {
	return &results[T]{out: make([]T, n), seen: make([]bool, n), dup: -1}
}

func (r *results[T]) reset() {
	clear(r.out)
	clear(r.seen)
	r.dup, r.err = -1, nil
}

// put records item i's result; each design puts each index from one goroutine.
func (r *results[T]) put(i int, v T) {
	if r.seen[i] {
		r.dup = i
	}
	r.out[i], r.seen[i] = v, true
}

// fail records the first failure; item is the failing item's index, or -1.
func (r *results[T]) fail(item int, err error) {
	var ie *itemError
	if errors.As(err, &ie) {
		item, err = ie.item, ie.err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = &CompareError{Item: item, Err: err}
	}
}

// outcome returns the failure the design reported, named for it.
func (r *results[T]) outcome(design string, err error) error {
	if r.err != nil {
		var ce *CompareError
		errors.As(r.err, &ce)
		ce.Design = design
		return ce
	}
	if err != nil {
		var ie *itemError
		if errors.As(err, &ie) {
			return &CompareError{Design: design, Item: ie.item, Err: ie.err}
		}
		return &CompareError{Design: design, Item: -1, Err: err}
	}
	return nil
}

// check compares the run's results with ref item by item.
func (r *results[T]) check(design string, ref []T, eq func(a, b T) bool) error {
	if r.dup >= 0 {
		return &CompareError{Design: design, Item: r.dup, Err: errors.New("its result came back twice")}
	}
	for i := range ref {
		if !r.seen[i] {
			return &CompareError{Design: design, Item: i, Err: errors.New("no result")}
		}
		if !eq(r.out[i], ref[i]) {
			return &CompareError{Design: design, Item: i, Err: fmt.Errorf("got %+v, want %+v (direct calls)", r.out[i], ref[i])}
		}
	}
	return nil
}

// compareImpl is one design of Compare: open prepares what lives for the whole sub-benchmark and
// returns the run (one pass over the input into the results) and the func that ends it.
type compareImpl[T any] struct {
	name string
	open func(cfg compareConfig, input []T, stages []func(context.Context, T) (T, error), r *results[T]) (run func() error, stop func())
}

func compareImpls[T any]() []compareImpl[T] {
	return []compareImpl[T]{
		{"direct", openDirect[T]},
		{"hand", openHand[T]},
		{"pipe", openPipe[T]},
		{"pool", openPool[T]},
		{"pool-slice", openPoolSlice[T]},
		{"group", openGroup[T]},
	}
}

func nothing() {}

func openDirect[T any](cfg compareConfig, input []T, stages []func(context.Context, T) (T, error), r *results[T]) (func() error, func()) {
	return func() error {
		ctx := context.Background()
		var wg sync.WaitGroup
		n := len(input)
		for g := range cfg.workers {
			lo, hi := n*g/cfg.workers, n*(g+1)/cfg.workers
			wg.Go(func() {
				for i := lo; i < hi; i++ {
					v, err := applyAll(ctx, stages, input[i])
					if err != nil {
						r.fail(i, err)
						return
					}
					r.out[i], r.seen[i] = v, true // each index is this goroutine's alone
				}
			})
		}
		wg.Wait()
		return r.outcome("direct", nil)
	}, nothing
}

// stagesOfSlots wraps each stage to run on a slot, its failures carrying the slot's index.
func stagesOfSlots[T any](stages []func(context.Context, T) (T, error)) []func(context.Context, indexed[T]) (indexed[T], error) {
	out := make([]func(context.Context, indexed[T]) (indexed[T], error), len(stages))
	for k, stage := range stages {
		out[k] = func(ctx context.Context, s indexed[T]) (indexed[T], error) {
			v, err := applyOne(ctx, k, stage, s.v)
			if err != nil {
				return s, &itemError{s.i, err}
			}
			s.v = v
			return s, nil
		}
	}
	return out
}

func openHand[T any](_ compareConfig, input []T, stages []func(context.Context, T) (T, error), r *results[T]) (func() error, func()) {
	wrapped := stagesOfSlots(stages)
	return func() error {
		h := newHand[indexed[T]](context.Background())
		ch := h.source(slots(input, 0, len(input)))
		for _, stage := range wrapped {
			ch = h.stage(ch, stage, 1)
		}
		for s := range ch {
			r.put(s.i, s.v)
		}
		return r.outcome("hand", h.wait())
	}, nothing
}

func openPipe[T any](_ compareConfig, input []T, stages []func(context.Context, T) (T, error), r *results[T]) (func() error, func()) {
	wrapped := stagesOfSlots(stages)
	return func() error {
		p := pipe.New(context.Background())
		ch := pipe.FromSeq(p, slots(input, 0, len(input)))
		for _, stage := range wrapped {
			ch = pipe.Map(p, ch, stage)
		}
		err := pipe.ForEach(p, ch, func(_ context.Context, s indexed[T]) error {
			r.put(s.i, s.v)
			return nil
		})
		return r.outcome("pipe", err)
	}, nothing
}

// workOfSlots is the work func of the fused designs over slots: every stage on one goroutine.
func workOfSlots[T any](stages []func(context.Context, T) (T, error)) func(context.Context, indexed[T]) (indexed[T], error) {
	return func(ctx context.Context, s indexed[T]) (indexed[T], error) {
		v, err := applyAll(ctx, stages, s.v)
		if err != nil {
			return s, &itemError{s.i, err}
		}
		s.v = v
		return s, nil
	}
}

func openPool[T any](cfg compareConfig, input []T, stages []func(context.Context, T) (T, error), r *results[T]) (func() error, func()) {
	work := workOfSlots(stages)
	return func() error {
		for s, err := range pool.Run(context.Background(), slots(input, 0, len(input)), work, pool.Workers(cfg.workers)) {
			if err != nil {
				r.fail(s.i, err)
				continue
			}
			r.put(s.i, s.v)
		}
		return r.outcome("pool", nil)
	}, nothing
}

func openPoolSlice[T any](cfg compareConfig, input []T, stages []func(context.Context, T) (T, error), r *results[T]) (func() error, func()) {
	work := func(ctx context.Context, v T) (T, error) { return applyAll(ctx, stages, v) }
	return func() error {
		out, errs := pool.Slice(context.Background(), input, work, pool.Workers(cfg.workers))
		for i, err := range errs {
			if err != nil {
				r.fail(i, err)
				break
			}
		}
		for i, v := range out {
			r.put(i, v)
		}
		return r.outcome("pool-slice", nil)
	}, nothing
}

func openGroup[T any](cfg compareConfig, input []T, stages []func(context.Context, T) (T, error), r *results[T]) (func() error, func()) {
	router := group.New[int](workOfSlots(stages), group.Workers(cfg.workers))
	stop := func() { _ = router.Shutdown(context.Background()) }
	return func() error {
		ctx := context.Background()
		n := len(input)
		var wg sync.WaitGroup
		for g := range cfg.groups {
			lo, hi := n*g/cfg.groups, n*(g+1)/cfg.groups
			grp, err := router.Open(ctx, g)
			if err != nil {
				r.fail(-1, fmt.Errorf("opening group %d: %w", g, err))
				break
			}
			wg.Go(func() {
				defer grp.Close()
				for s := range slots(input, lo, hi) {
					if err := grp.Submit(ctx, s); err != nil {
						r.fail(s.i, fmt.Errorf("submitting to group %d: %w", g, err))
						return
					}
				}
			})
			wg.Go(func() {
				for s, err := range grp.Results() {
					switch {
					case err != nil:
						r.fail(s.i, err)
					case s.i < lo || s.i >= hi:
						r.fail(s.i, fmt.Errorf("came back to group %d, whose items are %d to %d", g, lo, hi-1))
					default:
						r.put(s.i, s.v)
					}
				}
			})
		}
		wg.Wait()
		return r.outcome("group", nil)
	}, stop
}

// measureDesign is one sub-benchmark of Compare.
func measureDesign[T any](b *testing.B, d compareImpl[T], cfg compareConfig, input []T, stages []func(context.Context, T) (T, error), ref []T, eq func(a, b T) bool) {
	r := newResults[T](len(input))
	run, stop := d.open(cfg, input, stages, r)
	defer stop()
	err := run()
	if err == nil {
		err = r.check(d.name, ref, eq)
	}
	if err != nil {
		b.Fatalf("check before timing: %v", err)
	}
	var before, after runtime.MemStats
	var bytes, allocs uint64
	runs := 0
	for b.Loop() {
		runs++
		b.StopTimer()
		r.reset()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		err := run()
		b.StopTimer()
		runtime.ReadMemStats(&after)
		bytes += after.TotalAlloc - before.TotalAlloc
		allocs += after.Mallocs - before.Mallocs
		if err == nil {
			err = r.check(d.name, ref, eq)
		}
		if err != nil {
			b.Fatalf("timed run %d: %v", runs, err)
		}
		b.StartTimer()
	}
	items := float64(b.N) * float64(len(input))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/items, "ns/item")
	b.ReportMetric(float64(bytes)/items, "B/item")
	b.ReportMetric(float64(allocs)/items, "allocs/item")
}
