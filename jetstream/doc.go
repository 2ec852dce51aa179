// Package jetstream feeds a [group.Router] from a durable NATS JetStream consumer, so that any
// number of processes share one stream of work with nothing lost: each message is decoded into an
// item, routed to a serial request group by a key derived from the message, processed by the
// router's work func (typically an fsm.Machine's Do), and acknowledged only once its item
// succeeded.
//
//	decode := func(m natsjs.Msg) (string, Order, error) {
//		o, err := parseOrder(m.Data())
//		return jetstream.Token(m.Subject(), -1), o, err // keyed by customer: orders.<customer>
//	}
//	r := group.New[string](machine.Do)
//	defer r.Shutdown(context.Background())
//	f, err := jetstream.New(ctx, js, "ORDERS", "workers", r, decode)
//	if err != nil {
//		return err // the stream, the consumer or the dead-letter stream is missing
//	}
//	return f.Run(ctx) // until ctx ends; then drains and returns
//
// Here natsjs is github.com/nats-io/nats.go/jetstream, whose JetStream and Msg types the feed
// takes. Every process runs the same code against the same durable consumer; the server spreads
// the messages over them.
//
// # Delivery
//
// At least once. A message is acknowledged after its item's work func returned without error. A
// failed item's message is negatively acknowledged with a delay from the [Backoff] policy (plain
// Nak would ignore it) and delivered again, to this process or another; on the consumer's
// MaxDeliver-th delivery it is dead-lettered instead. An error marked with [Permanent], a panic in
// the work func (a bug, which retrying does not fix) and a message the decode func rejects (or
// panics on, or calls runtime.Goexit in: a poison message) are dead-lettered at once, on their
// first delivery. Dead-lettering publishes the message, its headers and [HeaderReason],
// [HeaderError] and the other Dead-Letter headers to the [DeadLetter] subject, waits for the
// stream to store it, and then terminates the message; if the publication fails the message is
// retried instead.
//
// # The last delivery
//
// The server does not deliver a message again past the consumer's MaxDeliver: a Nak (with or
// without a delay), or an AckWait that expires, on the MaxDeliver-th delivery is the message's
// end (the server sends a MAX_DELIVERIES advisory and counts it neither pending nor awaiting an
// acknowledgement; nothing a client sends makes a delivery not count). So the feed never hands a
// message on its last delivery back, nor defers it: it ends processed or dead-lettered. A run
// that ends before such an item finished (past [DrainTimeout], a lost connection, a closed
// router) dead-letters it with [ReasonUnfinished]; a dead-letter publication that fails on the
// last delivery keeps the message, reported in progress, and publishes it again every half
// progress interval until the stream stores it, and once more as the run ends (a graceful end
// waits for it up to DrainTimeout). Only a run that ends with the dead-letter stream still
// unreachable gives such a message up: it is counted in [Stats].Dropped and reported to the
// [OnError] func with its stream sequence (it stays in the stream; the advisory names it too).
//
// A message can therefore be processed more than once: when a process dies after the work but
// before the acknowledgement reached the server, when AckWait expires, or when an acknowledgement
// is lost with the connection. Make the sink idempotent with the message's stream sequence
// (Msg.Metadata().Sequence.Stream), which is the same on every delivery: an upsert keyed by it, a
// unique constraint, or a Nats-Msg-Id of stream and sequence when the sink is itself a stream.
//
// # Ordering
//
// Each key has one [group.Serial] group: this process runs a key's items one at a time, in the
// order it received them, and the keys concurrently on the router's workers. The feed puts at
// most [Window] items of a key in its group, whose window it opens twice as large, since a
// group's window also counts the results its reader holds. Three limits: a retried message, and
// a message deferred because its key held its [KeyShare], comes back after the key's later
// messages; and two processes sharing a consumer can hold messages of the same key at once. For per-key order across
// processes, partition the subjects (a stream subject transform with partition()) and give each
// process the consumer of its partitions.
//
// # Backpressure and sizing
//
// A process holds at most [MaxInFlight] messages (received, not yet settled); while it holds that
// many, the dispatcher and then the client's delivery goroutine wait, and no more is pulled than
// the dispatcher's buffer of 16 and the client's buffer of
// MaxInFlight messages (a smaller buffer measured up to a fifth slower: more pull round trips).
// A key's messages beyond its group's [Window] wait in the feed in order. So that keys far behind
// cannot take every slot and hold up the others, a key that holds its [KeyShare] (a quarter of
// MaxInFlight by default) takes another slot only if a share of slots stays free after it;
// otherwise its message is deferred: negatively acknowledged with the backoff delay, delivered
// again later, and that delivery counts towards MaxDeliver. The last KeyShare slots are thus
// kept for the keys below their share, however many keys are behind: with a key 100 service
// times behind, another key's message completed within 4 to 5 service times of the run's start,
// against 2 when it is alone and about 116 before the share existed (BenchmarkHotKey, medians of
// 6 runs on a loaded machine). Groups with no message stay open for reuse up to [IdleGroups], least
// recently used closed first, so at most MaxInFlight+IdleGroups groups are open.
//
// The consumer's MaxAckPending bounds the unacknowledged messages of all processes together: set
// it to at least processes × 2 × MaxInFlight to keep every process busy, or lower to cap the
// whole cluster's work in progress. AckWait must cover a message's wait in the client's buffer;
// once the feed holds a message it sends InProgress every [ProgressEvery] (a third of AckWait by
// default), so long items and long queues behind a slow key do not expire.
//
// # Shutdown and failures
//
// When [Feed.Run]'s context ends, the feed stops pulling, processes what the client had pulled,
// finishes and settles every held item, and closes its groups; past [DrainTimeout] it cancels the
// work's context and hands the rest back (Nak without delay) for another process, except the
// messages on their last delivery, which it dead-letters (see The last delivery). A process that
// dies instead loses nothing: the server redelivers what it had not acknowledged once AckWait
// expires. A lost connection makes the feed wait while the client reconnects (configure the
// nats.Conn to reconnect forever); acknowledgements made meanwhile are sent on reconnection, and
// consumption resumes. Only a loss longer than [DisconnectTimeout] ends the run, with
// [ErrDisconnected]. A missing stream, consumer or dead-letter stream is an error of [New] naming
// it.
//
// # Panics
//
// A panic in the work func is recovered by the router and dead-letters the message with its stack
// (ReasonPanic); a panic in the decode func, or a runtime.Goexit there, makes the message poison
// (ReasonDecode), and the feed goes on with the next message. An error whose Error method panics
// (a typed nil is the usual way) is dead-lettered with a text naming its type and the panic; a
// panic in an error's Is, As or Unwrap method dead-letters the message as a panic. A panic in
// the [Backoff] policy is reported to OnError, and the default policy's delay is used. A panic
// in the [OnError] func ends the run with that panic as Run's error. The feed's goroutines never
// crash the process.
//
// Misuse panics at the call site, naming the bad argument: [New] with a nil context, JetStream,
// Router or decode func, [Feed.Run] with a nil context or called a second time, an option with
// a value out of its range.
//
// # Counters
//
// [Feed.Stats] reports received, redelivered, processed, failed, retried, dead-lettered and held
// messages beside the router's own [group.Stats]. Once settled, every received message is counted
// in exactly one of Processed, Retried, Deferred, DeadLettered, HandedBack and Dropped.
//
// # Goroutines
//
// Besides the client's delivery goroutine, a run has one dispatcher goroutine, to which the
// delivery goroutine hands each message through a buffer of 16 and which runs the decode func
// (so that a Goexit there does not end the client's goroutine) and hands the item to its key's
// group, waiting for a slot when all are taken (and so the delivery goroutine and the client's
// pulling wait too), one reader goroutine
// per open group, one goroutine that sends acknowledgements in bursts (acknowledgements from many
// goroutines would each cost the client a write system call), one that sends progress and
// follows the connection, and, while a message on its last delivery waits for its dead letter,
// one that publishes it again. All end before [Feed.Run] returns.
//
// # Cost
//
// BenchmarkConsume compares a feed with a plain nats.go Consume loop doing the same decode, work
// and Ack in its callback and pulling with the same buffer, on 2 cores with the server embedded:
// on trivial work the feed takes about 1.14 times the loop's time (median of 8 runs on a quiet
// machine, 1.07 to 1.23; about 122k against 144k messages a second: a worker and a reader
// goroutine hand each message on, where the loop does everything on one goroutine; on a busy
// machine the gap grows, since the feed has more goroutines to schedule); on work that waits 1 ms
// it is about 41 times faster (37 to 49), running many keys at once. These figures predate the
// dispatcher goroutine; measured against the feed before it on a loaded machine, the difference
// was within the noise (feed/plain 1.52 before, 1.73 after, p = 0.82). docs/scale-out.md has the
// figures and the sizing guide.
package jetstream
