package jetstream

import (
	"sync/atomic"

	"github.com/stagecoach-go/stagecoach/group"
)

// Stats is a snapshot of a feed's counters. Every message the feed received is, once settled,
// counted in exactly one of Processed, Retried, Deferred, DeadLettered, HandedBack and Dropped;
// Held counts those not yet settled (a message the feed could not read as a JetStream message is
// only reported).
type Stats struct {
	Received     int64 // deliveries the consumer handed to the feed, redeliveries included
	Redelivered  int64 // of them, deliveries after the message's first
	Processed    int64 // acknowledged: their item succeeded
	Failed       int64 // items that failed: an error or panic of the work func, or an aborting run
	Retried      int64 // negatively acknowledged with the backoff delay, to be delivered again
	DeadLettered int64 // published to the dead-letter subject and terminated
	Undecodable  int64 // of the dead-lettered, those whose decode func failed
	HandedBack   int64 // negatively acknowledged without delay as the run aborted
	Deferred     int64 // negatively acknowledged with the backoff delay: their key held its KeyShare
	// Dropped counts messages on their last delivery that the run ended without processing or
	// dead-lettering (the dead-letter stream stayed unreachable to the end): the server does not
	// deliver them again. Each is reported to the OnError func with its stream sequence.
	Dropped int64
	Held    int64 // received and not yet settled
	Groups  int   // groups the feed has open

	// Router is the router's own counters, over all its groups (the feed's and any others).
	Router group.Stats
}

type counters struct {
	received, redelivered, processed, failed, retried atomic.Int64
	deadLettered, undecodable, handedBack, held       atomic.Int64
	deferred, dropped                                 atomic.Int64
}

// Stats returns the feed's counters and the router's.
func (f *Feed[K, T]) Stats() Stats {
	f.mu.Lock()
	groups := len(f.keys)
	f.mu.Unlock()
	return Stats{
		Received:     f.stats.received.Load(),
		Redelivered:  f.stats.redelivered.Load(),
		Processed:    f.stats.processed.Load(),
		Failed:       f.stats.failed.Load(),
		Retried:      f.stats.retried.Load(),
		DeadLettered: f.stats.deadLettered.Load(),
		Undecodable:  f.stats.undecodable.Load(),
		HandedBack:   f.stats.handedBack.Load(),
		Deferred:     f.stats.deferred.Load(),
		Dropped:      f.stats.dropped.Load(),
		Held:         f.stats.held.Load(),
		Groups:       groups,
		Router:       f.router.Stats(),
	}
}
