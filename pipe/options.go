package pipe

import "fmt"

// An Option configures a stage, or a sink that takes options ([ForEach], [Any], [Every]: they
// use Workers and Name, and ignore the others).
type Option interface{ apply(*options) }

type options struct {
	workers int
	ordered bool
	buffer  int
	window  int
	name    string
}

// DefaultBuffer is the capacity of a stage's output channel unless [Buffer] says otherwise. It
// was chosen by measurement (BenchmarkBuffer): past 64, a larger buffer gained nothing on the
// bench workloads, while 1 costs a goroutine hand-off nearly every item (about 1.8 times the
// time of 64 on four trivial stages).
const DefaultBuffer = 64

// DefaultWindow is the reorder window of an ordered stage unless [Window] says otherwise: the most
// items inside the stage at once. It is DefaultBuffer, so by default an ordered stage holds back
// about as many items as its output channel holds.
const DefaultWindow = DefaultBuffer

// maxSize is the largest Buffer or Window: the channel, or the ring of that many slots (two small
// channels each), is allocated when the stage is built.
const maxSize = 1 << 16

func newOptions(opts []Option) options {
	o := options{workers: 1, buffer: DefaultBuffer, window: DefaultWindow}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// Workers runs the stage func, or the sink func of [ForEach], [Any] and [Every], on n goroutines
// at once (default 1: see the package documentation for why). Workers panics if n is below 1.
func Workers(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("pipe: Workers(%d): must be at least 1", n))
	}
	return optionFunc(func(o *options) { o.workers = n })
}

// Ordered makes a stage with several workers emit its outputs in the order of its inputs. At most
// [Window] items are in the stage at once, so a slow item holds back a bounded number of finished
// ones. A stage with one worker is always ordered.
func Ordered() Option { return optionFunc(func(o *options) { o.ordered = true }) }

// Buffer sets the capacity of the stage's output channel (default [DefaultBuffer]). Buffer panics
// if n is below 1 or above 65,536 (2^16).
func Buffer(n int) Option {
	if n < 1 || n > maxSize {
		panic(fmt.Sprintf("pipe: Buffer(%d): must be from 1 to %d", n, maxSize))
	}
	return optionFunc(func(o *options) { o.buffer = n })
}

// Window sets the reorder window of an [Ordered] stage with several workers: the most items inside
// the stage at once, taken from its input but not yet emitted (default [DefaultWindow]). It has no
// effect on an unordered stage. Window panics if n is below 1 or above 65,536 (2^16).
func Window(n int) Option {
	if n < 1 || n > maxSize {
		panic(fmt.Sprintf("pipe: Window(%d): must be from 1 to %d", n, maxSize))
	}
	return optionFunc(func(o *options) { o.window = n })
}

// Name names the stage in its errors: a failure of the stage's func reads "pipe: validate (Map #2):
// ..." for Name("validate"), instead of "pipe: Map #2: ...". Name panics if name is empty.
func Name(name string) Option {
	if name == "" {
		panic(`pipe: Name(""): must not be empty`)
	}
	return optionFunc(func(o *options) { o.name = name })
}
