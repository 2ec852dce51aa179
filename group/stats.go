package group

import "sync/atomic"

// Stats is a snapshot of a router's or a group's counters.
type Stats struct {
	Submitted int64 // items accepted by Submit or TrySubmit
	Completed int64 // items whose work func returned without error
	Failed    int64 // items with an error: the work func's, a panic, or the group's context ending
	Queued    int64 // items accepted and not yet started
	InFlight  int64 // items a worker is running
	Expired   int64 // items failed with ErrExpired, without being run: counted in Failed too
	Retried   int64 // failed attempts sent back to be run again (Retry): not counted in Failed
}

func (s Stats) add(o Stats) Stats {
	return Stats{
		Submitted: s.Submitted + o.Submitted, Completed: s.Completed + o.Completed, Failed: s.Failed + o.Failed,
		Queued: s.Queued + o.Queued, InFlight: s.InFlight + o.InFlight, Expired: s.Expired + o.Expired,
		Retried: s.Retried + o.Retried,
	}
}

// counters are updated with atomics: per item on Submit, per batch by workers.
type counters struct {
	submitted atomic.Int64
	started   atomic.Int64
	completed atomic.Int64
	failed    atomic.Int64
	expired   atomic.Int64
	retried   atomic.Int64
}

func (c *counters) snapshot() Stats {
	completed, failed := c.completed.Load(), c.failed.Load()
	started := c.started.Load()
	submitted := c.submitted.Load()
	return Stats{
		Submitted: submitted,
		Completed: completed,
		Failed:    failed,
		Queued:    max(0, submitted-started),
		InFlight:  max(0, started-completed-failed),
		Expired:   c.expired.Load(),
		Retried:   c.retried.Load(),
	}
}
