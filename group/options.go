package group

import (
	"fmt"
	"runtime"
)

// An Option configures a [Router].
type Option interface{ applyRouter(*routerOptions) }

// A GroupOption configures one request group at [Router.Open].
type GroupOption interface{ applyGroup(*groupOptions) }

type routerOptions struct {
	workers int
}

type groupOptions struct {
	ordered bool
	serial  bool
	window  int
}

// DefaultWindow is a group's window unless [Window] says otherwise.
const DefaultWindow = 256

type routerOption func(*routerOptions)

func (f routerOption) applyRouter(o *routerOptions) { f(o) }

type groupOption func(*groupOptions)

func (f groupOption) applyGroup(o *groupOptions) { f(o) }

// Workers sets how many workers the router runs (default GOMAXPROCS). Workers panics if n is
// below 1.
func Workers(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("group: Workers(%d): must be at least 1", n))
	}
	return routerOption(func(o *routerOptions) { o.workers = n })
}

// Ordered delivers the group's results in the order of its submissions.
func Ordered() GroupOption { return groupOption(func(o *groupOptions) { o.ordered = true }) }

// Serial runs at most one item of the group at a time, in submission order: for per-key ordering
// of side effects. A serial group's results are in submission order too.
func Serial() GroupOption {
	return groupOption(func(o *groupOptions) { o.serial, o.ordered = true, true })
}

// Window bounds the items submitted to the group but not yet read by its reader (default
// [DefaultWindow]); Submit blocks while the window is full. The group allocates its window once,
// at Open. Window panics if n is below 1.
func Window(n int) GroupOption {
	if n < 1 {
		panic(fmt.Sprintf("group: Window(%d): must be at least 1", n))
	}
	return groupOption(func(o *groupOptions) { o.window = n })
}

func newRouterOptions(opts []Option) routerOptions {
	o := routerOptions{workers: runtime.GOMAXPROCS(0)}
	for _, opt := range opts {
		opt.applyRouter(&o)
	}
	return o
}

func newGroupOptions(opts []GroupOption) groupOptions {
	o := groupOptions{window: DefaultWindow}
	for _, opt := range opts {
		opt.applyGroup(&o)
	}
	return o
}
