package pool

import (
	"fmt"
	"runtime"
	"time"
)

// An Option configures a run of [Run], [Map], [RunSeq2], [RunChan] or [Slice]. Options are
// applied in order; a later one overrides an earlier one of the same kind.
type Option interface{ apply(*options) }

type options struct {
	workers  int
	ordered  bool
	window   int
	failFast bool
	repanic  bool
	maxBatch int
	look     time.Duration // how often the consumer looks at batches in progress: see handover.go
}

// chunkSize is how many items the source's reader publishes in one chunk, and so the largest
// batch a worker can take at once.
const chunkSize = 256

func newOptions(opts []Option) options {
	o := options{workers: runtime.GOMAXPROCS(0), maxBatch: chunkSize, look: lookEvery}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.window == 0 {
		o.window = 2 * o.workers * o.maxBatch
	}
	return o
}

// claimLimit is the most items a worker takes at once: MaxBatch, and in ordered runs no more
// than the reorder window.
func (o options) claimLimit() int {
	if !o.ordered {
		return o.maxBatch
	}
	return min(o.maxBatch, o.window)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// Workers sets how many items are processed at once: n workers each carry one item at a time
// through the work func. The default is GOMAXPROCS. Workers panics if n is below 1.
func Workers(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("pool: Workers(%d): must be at least 1", n))
	}
	return optionFunc(func(o *options) { o.workers = n })
}

// Ordered delivers results in the order their items came from the source, holding at most the
// reorder window (see [Window]) of finished results back while an earlier item is still running.
// The default is completion order, which is faster.
func Ordered() Option {
	return optionFunc(func(o *options) { o.ordered = true })
}

// Window bounds how many finished results an ordered run holds back while it waits for an
// earlier item; a worker whose results cannot be delivered waits. The default is
// 2 x workers x MaxBatch. Smaller windows make workers take fewer items at once, so they cost
// throughput on cheap items. Window has no effect without [Ordered]. Window panics if n is below 1.
func Window(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("pool: Window(%d): must be at least 1", n))
	}
	return optionFunc(func(o *options) { o.window = n })
}

// FailFast ends the run at the first error (a work func's error, a captured panic, or the end of
// the context): no item starts after it, the context passed to running work funcs is cancelled
// with the error as its cause, and the error is the run's last result. The default delivers
// every item's error with its item and carries on.
func FailFast() Option {
	return optionFunc(func(o *options) { o.failFast = true })
}

// Repanic re-raises a panic of the work func in the consumer's goroutine (the one ranging over
// the results), after every goroutine of the run has ended, with the [PanicError] that carries
// the original value and stack (a recover reaches both; left unrecovered, the crash prints the
// value on one line, and the original stack is lost with the process). The default turns the
// panic into that item's error.
func Repanic() Option {
	return optionFunc(func(o *options) { o.repanic = true })
}

// MaxBatch sets the most items a worker takes from the source's queue at once (default and
// maximum 256). Workers never wait to fill a batch: a worker takes what is there, so a slow source
// gets its items processed one by one as they come. Smaller batches spread a few slow items
// more evenly over the workers at the end of a run; larger ones amortise the hand-over better.
// MaxBatch panics if n is below 1 or above 256.
func MaxBatch(n int) Option {
	if n < 1 || n > chunkSize {
		panic(fmt.Sprintf("pool: MaxBatch(%d): must be from 1 to %d", n, chunkSize))
	}
	return optionFunc(func(o *options) { o.maxBatch = n })
}
