package engine_test

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/internal/engine"
	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// outcome is what one item of a drawn run does.
type outcome int

const (
	returns outcome = iota
	panicsOut
	goexits
)

// Over runs of items that return, panic or call runtime.Goexit, driven as pool and group drive the
// guard (a replacement goroutine goes on after a Goexit): every item ends exactly once, with its
// result or with the error that says why, and failed is never called for an item that returned.
func TestGuardEveryItemEndsOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		does := rapid.SliceOfN(rapid.SampledFrom([]outcome{returns, returns, returns, panicsOut, goexits}), 0, 40).Draw(t, "items")
		ended := make([]int, len(does))
		errs := make([]error, len(does))
		var runFrom func(i int)
		var wg sync.WaitGroup
		runFrom = func(i int) {
			for i < len(does) {
				returned := engine.Guard(func() {
					for ; i < len(does); i++ {
						switch does[i] {
						case panicsOut:
							panic(i)
						case goexits:
							runtime.Goexit()
						}
						ended[i]++
					}
				}, func(err error) {
					ended[i]++
					errs[i] = err
					i++
					if errors.Is(err, panics.ErrGoexit) {
						from := i
						wg.Go(func() { runFrom(from) }) // the goroutine is ending: hand over the rest
					}
				})
				if returned {
					require.Equal(t, len(does), i)
				}
			}
		}
		wg.Go(func() { runFrom(0) })
		wg.Wait()
		for i, d := range does {
			if ended[i] != 1 {
				t.Fatalf("item %d (%v) ended %d times", i, d, ended[i])
			}
			switch d {
			case returns:
				if errs[i] != nil {
					t.Fatalf("item %d returned and got %v", i, errs[i])
				}
			case panicsOut:
				var pe *panics.Error
				if !errors.As(errs[i], &pe) || pe.Value != i || len(pe.Stack) == 0 {
					t.Fatalf("item %d panicked and got %#v", i, errs[i])
				}
			case goexits:
				if !errors.Is(errs[i], panics.ErrGoexit) {
					t.Fatalf("item %d called Goexit and got %v", i, errs[i])
				}
			}
		}
	})
}

// The stack a panic's error carries is the panicking goroutine's, with the frame that panicked.
func TestGuardCapturesThePanickingStack(t *testing.T) {
	var got error
	returned := engine.Guard(func() { panicHere() }, func(err error) { got = err })
	assert.False(t, returned)
	var pe *panics.Error
	require.ErrorAs(t, got, &pe)
	assert.Contains(t, string(pe.Stack), "panicHere")
}

func panicHere() { panic("here") }

// Guard keeps neither func: a run that returns costs no allocation.
func TestGuardDoesNotAllocate(t *testing.T) {
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		engine.Guard(func() { n++ }, func(error) { n-- })
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 101, n)
}

// The estimate follows the rule of the package doc: the first sample is taken as it is, a lower
// one halves the distance, a higher one counts for a quarter and for at most MaxRise times the
// estimate; it is never 0 after a sample, and Fit stays within 1 and its limit.
func TestServiceTimeFollowsItsRule(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var st engine.ServiceTime
		var want int64
		for range rapid.IntRange(1, 30).Draw(t, "samples") {
			items := rapid.IntRange(0, 300).Draw(t, "items")
			took := time.Duration(rapid.Int64Range(0, int64(10*time.Millisecond)).Draw(t, "took"))
			st.Learn(took, items)
			if items > 0 {
				per := took.Nanoseconds()/int64(items) + 1
				switch {
				case want == 0:
					want = per
				case per < want:
					want = (want + per) / 2
				default:
					want = (3*want + min(per, engine.MaxRise*want)) / 4
				}
				if want != st.Ns() {
					t.Fatalf("estimate %d after a sample of %d, want %d", st.Ns(), per, want)
				}
			}
			if items > 0 && st.Ns() < 1 {
				t.Fatalf("estimate %d after a sample", st.Ns())
			}
			span := time.Duration(rapid.Int64Range(0, int64(time.Millisecond)).Draw(t, "span"))
			limit := rapid.IntRange(1, 1024).Draw(t, "limit")
			k := st.Fit(span, limit)
			if k < 1 || k > limit {
				t.Fatalf("Fit(%v, %d) = %d", span, limit, k)
			}
			if st.Ns() > 0 && k > 1 && int64(k)*st.Ns() > span.Nanoseconds() {
				t.Fatalf("Fit(%v, %d) = %d items of %d ns: more than the span", span, limit, k, st.Ns())
			}
		}
	})
}

// One stalled run moves a settled estimate by at most 1.25x; a lasting rise is learned.
func TestServiceTimeOneStallIsBounded(t *testing.T) {
	var st engine.ServiceTime
	st.Learn(1000*time.Nanosecond, 1)
	st.Learn(time.Second, 1)
	assert.LessOrEqual(t, st.Ns(), int64(1251))
	for range 20 {
		st.Learn(4000*time.Nanosecond, 1)
	}
	assert.InDelta(t, 4001, st.Ns(), 40)
}

func TestFitPanicsOnABadLimit(t *testing.T) {
	var st engine.ServiceTime
	assert.PanicsWithValue(t, "engine: Fit needs a limit of at least 1, got 0", func() { st.Fit(time.Millisecond, 0) })
}
