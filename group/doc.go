// Package group multiplexes many independent request streams over one set of workers: a
// [Router] runs one work func (typically an fsm.Machine's Do) on a fixed set of workers for its
// whole life, and callers open request groups on it, each keyed by a K (a connection, a tenant, a
// request id). Each group submits its own items and gets back exactly its own results, fairly,
// and a slow or abandoned group never stalls the others.
//
//	r := group.New[ConnID](machine.Do)
//	defer r.Shutdown(ctx)
//	g, err := r.Open(ctx, conn.ID, group.Ordered())
//	go func() { defer g.Close(); for msg := range conn.In { g.Submit(ctx, msg) } }()
//	for reply, err := range g.Results() { conn.Send(reply, err) }
//
// # Requests and replies of two types
//
// [New] takes a work func that returns its item's type, func(ctx, T) (T, error), as a Machine's
// Do does. [Map] takes one that turns an In into an Out, func(ctx, In) (Out, error), as a
// service turns a Request into a Reply: it returns a [MapRouter], whose [MapGroup]s submit Ins
// and read Outs, and which is in every other way a Router ([Router] and [Group] are the MapRouter
// and MapGroup whose In and Out are one type). A failed item's result is then the zero Out, with
// an *[Error] (the key) wrapping an *[ItemError] that carries the item as it was submitted:
//
//	r := group.Map[ConnID](handle) // handle func(context.Context, Request) (Reply, error)
//	...
//	for reply, err := range g.Results() {
//		var ie *group.ItemError[Request]
//		if errors.As(err, &ie) { conn.Fail(ie.Item.ID, err); continue }
//		conn.Send(reply)
//	}
//
// # Results
//
// Every item [Group.Submit], [Group.SubmitAll] or [Group.TrySubmit] accepted yields exactly one result, to its own
// group and to no other: the work func's value, or the item as it was submitted with an
// *[Error] that carries the group's key (for a [MapRouter], the zero Out with that error, which
// carries the item). This holds when the group's context ends too: no item of the group
// starts after that, and the items not yet started fail with the context's cause.
// [Group.Results] delivers in completion order, or in submission order for an [Ordered] group;
// it ends once the group is closed and every result has been read. A [Serial] group runs at most
// one item at a time, in submission order. One goroutine at a time may range over a group's
// results: a second concurrent range panics with a message that says so. A reader may leave its
// range early in any way, by a break, a panic of its loop body, runtime.Goexit, or a [Repanic]
// panic that its caller recovers: the results it had taken and not yet been given go back to the
// group, and the next range gets them.
//
// A finished result is never held back by a batch-mate: a worker runs a batch of a group's items
// one after another and hands their results over when the batch ends, and while a batch runs, a
// reader that finds no result ready waits at most 500 us for it, then takes the results of the
// batch's items that have finished itself; a reader that began to wait before the batch was
// claimed has its wait bounded from the claim on. So a result reaches its reader within about
// 500 us of its item finishing even while a later item of its batch blocks, or never returns
// (TestFinishedResultIsNotHeldBehindABlockedBatchMate, TestFinishedResultIsNotHeldWhenTheReaderWaitedFirst); in an [Ordered] group, a result still
// waits for every result before it in order. The items of a batch after one that blocks have not
// started, and wait for it: a work func that may block for long is best given a router of more
// workers than such items, or a [Serial] group, whose batches are one item.
//
// # Windows and isolation
//
// A group's window ([Window], default [DefaultWindow]) bounds its items submitted and not yet
// read, including results a reader took and did not read before it left its range. Every
// accepted item has its slot in the window until its result is read, so a worker never waits for
// a reader: it puts results in their slots and moves on. A group
// whose reader is slow or gone fills its own window and blocks only its own Submit (TrySubmit
// returns [ErrWindowFull]); the other groups run at full speed. Submit honours its context, and
// closing the group or the router wakes every submitter blocked on it. Because the window counts
// unread results, submit and read in two goroutines: one that submits more than a window of
// items before it reads blocks until its context ends.
//
// A window's memory is held only while the group holds items: a group takes it from its router's
// pool at its first submission, grows it by doubling as far as the window allows, and gives it
// back once every result has been read. So an open idle group holds about 550 bytes of heap
// (100,000 open groups, TestHundredThousandOpenGroups), and a busy one allocates nothing in steady
// state: the pool hands back the window it gave up.
//
// # Fairness
//
// Groups with items to hand out wait in one queue; a worker takes the group at the front, takes
// a batch of at most the group's quantum of items, and puts the group back at the end if it has
// more. The quantum adapts to the group's measured service time so that a batch is about 20 us
// of work (at most 256 items): cheap items move in large batches, slow ones one at a time. Every
// group learns its own quantum whatever the rotation of the queue: its first 8 batches are
// timed, then one in 4 of its own batches, and the estimate follows a faster sample at once and
// a slower one only gradually, so that a batch slowed by a stall on a loaded machine does not
// leave its group behind the others. A worker takes a group out of the queue only once it holds
// the group's lock, and puts it back before it lets others look at the queue: a group whose lock
// is busy keeps its place and the worker serves the next one. A
// batch of items slow enough to be taken a few at a time is also at most an even share of the
// group's queued items among the workers, and a new group's first items go one at a time, so a
// few slow items spread over idle workers at once. A
// group with a million queued items therefore delays a new group's first item by at most about
// one batch a worker, not by its backlog. Workers yield their processor every few batches so
// that submitters and readers are not starved on a machine whose cores they keep busy.
//
// # Weights
//
// A group opened with [Weight](w) gets a share of the workers in proportion to w while several
// groups have work queued: two busy groups of weights 1 and 3 get 25% and 75% of the workers'
// time whatever their items cost (TestStressWeightedShares, 1 to 8 workers). Once a router has a
// weighted group, every group of it (weight 1 unless said) is served in the order of its virtual
// time over measured service time (start-time fair queueing): a group's virtual time is the
// service time it has had over its weight, a worker takes the group of least virtual time among
// those at the front of the queue whose lock it can take, and a batch worth the group's weight
// times 20 us of its measured cost an item, whose measured time then counts. A group of weight 1
// is never starved: the virtual time of every group served before it grows. A group passed over
// because its lock is busy (its reader taking results) keeps its virtual time, and is served
// first once its lock is free, until it has caught up. A group whose backlog starts after it had
// nothing to do starts at the router's virtual time: an idle group banks no service. A router
// with no weighted group serves its groups as described above, in turns of about 20 us.
//
// # Deadlines that shed load
//
// Under overload a request that waited too long is worthless. A group opened with [MaxWait](d)
// fails an item that no worker has started within d of its submission with an *[ExpiredError]
// (wrapping [ErrExpired] and the time it waited), without calling the work func, and
// [Group.Stats] counts it in Expired. The context an item is submitted with bounds its start the
// same way: an item whose submitting context ends (its deadline passes, or it is cancelled)
// before a worker starts it never starts, and its error wraps ErrExpired and the context's cause.
// Items are checked when a worker takes a run of them from the queue, and each again just before
// it starts, so no item starts later than its MaxWait, or once its context has ended. An expired
// item is a failure like any other: it ends a [FailFast] group. Once the oldest queued item of a group with a MaxWait has waited more than
// half of it, a worker sheds the group's expired items and serves its newest items first
// (neither [Ordered] nor [Serial] groups, which keep their order): under overload the items
// served are fresh ones, not ones that have waited about d, and the old ones expire.
//
// # Retries that free the worker
//
// A work func that fails with a transient error should neither sleep on its worker, holding it
// from every other group, nor give up. A group opened with [Retry](policy) sends an item whose
// error the policy calls retryable (by default, one wrapped with [Retryable]) back to its queue
// after an exponential backoff with jitter, up to policy.Attempts runs, and the worker moves on
// meanwhile; a timer of the group's brings the item back when it is due. The item still yields
// exactly one result: its success, or its last error, which names the attempts (an
// *[AttemptsError]). An [Ordered] group's results keep their order, and a [Serial] group starts
// no other item while one waits to be retried. [Group.Stats] counts the retries in Retried. A
// panic, a Goexit, an expiry, or the end of the group's context is never retried; an item
// waiting for a retry when its group's context, or the context it was submitted with, ends
// fails with that cause. In a [FailFast] group retries do not apply: a retryable error fails
// the group at once, as any error does.
//
// # Lifecycle and shutdown
//
// [Router.Open] returns [ErrKeyOpen] for a key whose group is open (not get-or-create: two owners
// of one key would read each other's results), and the context's cause for a context that has
// already ended; a closed group's key can be opened again at once. [Group.Close] ends
// submissions (Submit then returns [ErrGroupClosed]) and can be called more than once. A group
// whose context ends is reclaimed even if it was never closed and nobody reads it: submissions
// end, queued items fail with the cause, and the router forgets it. [Router.Close] ends opens
// and submissions ([ErrRouterClosed]); the workers finish every item already accepted and end;
// [Router.Wait] waits for them. [Router.Shutdown] does both, with a deadline: it is the one call a
// service needs at exit. No goroutine is started per group: the router's workers are its only
// goroutines. Misuse never crashes the process from a background goroutine or deadlocks.
//
// # Errors and panics
//
// Every error a group returns or puts on a result is an *[Error]: the group's key, what failed
// ("open", "submit", or nothing for an item's result), and the cause, which errors.Is and
// errors.As reach through it (the sentinel errors below, a *[PanicError], the work func's error,
// a context's cause). errors.As(err, &ge) with a *group.Error[K] recovers the key. The Open,
// Submit and Shutdown functions panic, naming themselves, when passed a nil context.
//
// By default each item's error is its own result and the group carries on. A [FailFast] group
// ends at its first failure: the context its running work funcs were given is cancelled with the
// failure as the cause, Submit refuses further items, and the items not yet started (those a
// worker took in the same batch as the failing one included) fail with an error wrapping
// [ErrGroupFailed] and the failure; the other groups are untouched.
//
// A panic in the work func is recovered on the worker (one deferred recover a batch, the guard
// group shares with package pool), with its stack, and becomes that item's error (a *[PanicError], in an *[Error] with the group's key); the router keeps serving every group.
// With [Repanic] the goroutine ranging over the group's results re-raises it instead. A work func
// that calls runtime.Goexit (as testing.T.FailNow does) fails its item with an error wrapping
// [ErrGoexit]; its worker's goroutine ends, and a new worker takes its place.
//
// # Work that waits
//
// A router's workers default to GOMAXPROCS, which keeps the cores busy when the work func uses
// the CPU. When it mostly waits (a database, a remote call), throughput is bound by how many items
// are in flight: give the router [Workers](n) for the concurrency you want, and give a group that
// should keep n items in flight on its own a [Window] of at least n (the default window, 256,
// bounds a group's items in flight whatever the worker count). The W4 benchmark measures it.
//
// # Counters
//
// [Group.Stats] and [Router.Stats] report submitted, completed, failed, queued, in-flight and
// expired items, and retries. A group's counters are atomics updated once an item on Submit and once a batch by
// workers; the router's are the sum of its groups', so the hot path has no shared counter.
// Router.Stats walks the live groups under a lock of its own, never the one workers take for
// every batch, so reading the counters of 100,000 groups does not stall the workers.
//
// # Cost
//
// Measured on a 2-core machine with the bench package (docs/benchmarks.md, medians of 5 runs):
// W3 (64 groups of 10k items, each submitted and read concurrently, 4 trivial stages run by an
// fsm.Machine) costs about 5 to 8.5 times calling the stage funcs directly (52.9 ns against 7.87
// ns an item in the latest report, 6.7 times; 43 ns with each stream's items handed over in runs
// of 64 with [MapGroup.SubmitAll]), with 0.004 allocations an item, all of them the 64 new groups' windows
// growing at their start (none in steady state). A new group's one item, behind another group's
// backlog of 100k items of 4 x 2 us, completes in about 3 to 22 times one item's service time
// (BenchmarkFairness; a FIFO queue: about 50,000). A request/response client (one item in flight,
// BenchmarkRequestResponse) waits about 1 to 2 us at p99 alone, 70 to 160 us with 64 clients and
// 1.3 to 3.1 ms with 1024 on 2 cores; 64 clients made 1.58 million round trips a second in the
// latest report. An open idle group holds 571 bytes of heap, and an open and close costs about
// 1.7 us and one allocation (the group) when the context cannot end and no option is given
// (BenchmarkGroupMemory).
package group
