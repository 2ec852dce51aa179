package group

import (
	"fmt"
	"runtime"
	"time"
)

// An Option configures a [Router].
type Option interface{ applyRouter(*routerOptions) }

// A GroupOption configures one request group at [Router.Open].
type GroupOption interface{ applyGroup(*groupOptions) }

type routerOptions struct {
	workers int
}

type groupOptions struct {
	ordered  bool
	serial   bool
	window   int
	failFast bool
	repanic  bool
	weight   int // 0: not set
	maxWait  time.Duration
	retry    *RetryPolicy
}

// DefaultWindow is a group's window unless [Window] says otherwise.
const DefaultWindow = 256

// MaxWindow is the largest window [Window] takes.
const MaxWindow = 1 << 20

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

// Window bounds the items submitted to the group and not yet read by its reader (default
// [DefaultWindow], at most [MaxWindow]): queued, running, finished and waiting to be read, or
// taken by a reader that left its range before reading them. Submit blocks while the
// window is full. A group holds a window's memory only while it holds items (see the package
// documentation). Window panics if n is below 1 or
// above MaxWindow.
func Window(n int) GroupOption {
	if n < 1 || n > MaxWindow {
		panic(fmt.Sprintf("group: Window(%d): must be from 1 to %d", n, MaxWindow))
	}
	return groupOption(func(o *groupOptions) { o.window = n })
}

// FailFast ends the group at its first failure (a work func's error or a captured panic): the
// context passed to the group's running work funcs is cancelled with the failure as its cause,
// Submit returns [ErrGroupClosed] wrapping it, and every item accepted and not yet started fails
// with an error that wraps [ErrGroupFailed] and the failure. Every accepted item still gets
// exactly one result. The default gives each item its own result and carries on.
func FailFast() GroupOption { return groupOption(func(o *groupOptions) { o.failFast = true }) }

// Weight gives the group a share of the workers in proportion to w while several groups have
// work queued: two busy groups of weights 1 and 3 get a quarter and three quarters of the
// workers' time, whatever their items cost. Once a router has a weighted group, every group of it
// is served in the order of its virtual time (its measured service time over its weight), the
// others with weight 1 (see the package documentation); a group of weight 1 is never starved.
// Without any Weight, groups are served as before, in turns of about 20 us of work each. Weight
// panics if w is below 1 or above [MaxWeight].
func Weight(w int) GroupOption {
	if w < 1 || w > MaxWeight {
		panic(fmt.Sprintf("group: Weight(%d): must be from 1 to %d", w, MaxWeight))
	}
	return groupOption(func(o *groupOptions) { o.weight = w })
}

// Repanic re-raises a panic of the work func on the goroutine that ranges over the group's
// [Group.Results], with the *[PanicError] that carries the original value and stack, when it
// reaches that result (a recover reaches both; left unrecovered, the crash prints the value on
// one line). The default delivers the *[PanicError] as the item's error.
func Repanic() GroupOption { return groupOption(func(o *groupOptions) { o.repanic = true }) }

func newRouterOptions(opts []Option) routerOptions {
	o := routerOptions{workers: runtime.GOMAXPROCS(0)}
	for _, opt := range opts {
		opt.applyRouter(&o)
	}
	return o
}

func newGroupOptions(opts []GroupOption) groupOptions {
	if len(opts) == 0 {
		return groupOptions{window: DefaultWindow} // Open with no options allocates no options
	}
	o := &groupOptions{window: DefaultWindow} // escapes: an option is an interface
	for _, opt := range opts {
		opt.applyGroup(o)
	}
	return *o
}
