// Package engine holds the parts that pool and group both run on, written once so that the two
// cannot drift apart: the guard that runs a run of items of a user's work func (a panic or a
// runtime.Goexit of the func becomes its item's error, at the cost of one deferred call a run, not
// one an item), and the estimate of an item's service time from which a worker sizes its claims
// (pool's claims and pool.Slice's runs) or a group its quantum.
//
// # The guard
//
// [Guard] calls run once, under one deferred recover. When run returns, Guard returns true and
// failed is not called. When the user's func inside run panics, Guard calls failed with a
// *panics.Error (the value and the stack of the goroutine that panicked) from its deferred func
// and returns false: the caller knows from its own state which item was running (pool and group
// keep a position that the item loop moves on only when an item has ended) and goes on after it.
// When the func calls runtime.Goexit, failed gets panics.ErrGoexit, still on the ending goroutine
// (its deferred funcs run), and Guard does not return: the goroutine ends, so failed is where the
// caller records the item's error and hands the rest of its claim to a replacement.
//
// Invariants: failed is called at most once a call of Guard, and only if run did not return;
// exactly one of "Guard returns true", "failed(*panics.Error) and Guard returns false", and
// "failed(ErrGoexit) and the goroutine ends" happens. run and failed are called on the caller's
// goroutine; Guard keeps neither, so closures passed to it stay on the caller's stack.
//
// # The service time
//
// [ServiceTime] is one worker's (pool) or one group's (group) estimate of an item's service time,
// learned from the runs it times. A sample below the estimate halves the distance to it (the
// service time really fell, or the run before was stalled); a sample above it counts for a quarter
// and for at most [MaxRise] times the estimate, so one run stalled by preemption or a GC pause
// moves the estimate by at most 1.25x, while a real rise is learned within a few samples. From the
// estimate, [ServiceTime.Fit] gives how many items fill a span of work (pool's batchTime, group's
// quantum), at least one and at most a bound. A ServiceTime is owned by one goroutine at a time
// (a pool worker, or whoever holds the group's lock): it has no synchronisation of its own.
package engine
