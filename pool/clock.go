package pool

import "time"

// clock reads the monotonic clock as the time since an epoch: time.Since makes one read of the
// clock, where time.Now makes two (it reads the wall clock too). Workers read it once a claim, to
// learn their items' service time, and the consumer once a batch while results are held.
type clock struct{ epoch time.Time }

func newClock() clock { return clock{epoch: time.Now()} }

func (c clock) now() time.Duration { return time.Since(c.epoch) }
