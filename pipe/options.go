package pipe

import "fmt"

// An Option configures a stage.
type Option interface{ apply(*options) }

type options struct {
	workers int
	ordered bool
	buffer  int
}

// DefaultBuffer is the capacity of a stage's output channel unless [Buffer] says otherwise. It
// was chosen by measurement (BenchmarkBuffer): past 64, a larger buffer gained nothing on the
// bench workloads, while 1 (or unbuffered) costs a goroutine hand-off an item.
const DefaultBuffer = 64

func newOptions(opts []Option) options {
	o := options{workers: 1, buffer: DefaultBuffer}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// Workers runs the stage func on n goroutines at once (default 1). Workers panics if n is below 1.
func Workers(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("pipe: Workers(%d): must be at least 1", n))
	}
	return optionFunc(func(o *options) { o.workers = n })
}

// Ordered makes a stage with several workers emit its outputs in the order of its inputs. At most
// the stage's buffer size ([Buffer]) of items are in the stage at once, so a slow item holds back
// a bounded number of finished ones. A stage with one worker is always ordered.
func Ordered() Option { return optionFunc(func(o *options) { o.ordered = true }) }

// Buffer sets the capacity of the stage's output channel, and the reorder window of an ordered
// stage (default [DefaultBuffer]). Buffer panics if n is below 1.
func Buffer(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("pipe: Buffer(%d): must be at least 1", n))
	}
	return optionFunc(func(o *options) { o.buffer = n })
}
