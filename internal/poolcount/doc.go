// Package poolcount counts the items of pool.Run, which package pool does not: how many were read
// from the source (submitted), are waiting for a worker (queued), are in a worker (in flight), and
// came back to the consumer as a value (completed) or an error (failed). The otel and prometheus
// modules both report these counters; the counting is here, once, and each module's Pool type is
// its naming and registration around a [Pool].
//
// # Counting
//
// A [Pool] wraps pool.Run: the source is wrapped to count what is read, the work func to count
// what starts and returns, and the results loop to count what is delivered. Each run has its own
// counters, each on its own cache line and written by one side of the run only (read by the
// source's reader, started and finished by the workers, completed and failed by the consumer), so
// counting costs a few uncontended atomic additions an item and no allocation. [Pool.Stats] adds
// the ended runs' totals to the live runs' counters under a mutex that the hot path never takes.
//
// A result is counted once delivered to the consumer. Items whose results the consumer did not
// take (it stopped early) stay submitted and are neither completed nor failed; a cancelled run's
// last result (the cause, with no item) is not counted as an item.
//
// # Concurrency
//
// A Pool is safe for concurrent use; its runs may overlap. Its zero value is not usable: make it
// with [New].
package poolcount
