package group

// Weighted service. Once any group of a router has a [Weight], every group of it is served by
// weighted deficit round robin over measured service time: each time a worker takes a group from
// the queue (a turn), the group's credit grows by its weight times quantumTime, to at most
// maxCredit turns' worth; the worker takes a batch worth the credit at the group's measured cost
// an item, charges that estimate at once (so that other workers taking the same group before the
// batch ends see it), and, once the batch has run, replaces the estimate with the batch's
// measured time (every batch of a weighted router is timed). A group whose credit is not
// positive after its refill (an item far slower than its estimate) passes its turn and goes to
// the back of the queue, unless no other group waits. So, while several groups have work queued,
// each gets service time in proportion to its weight, whatever its items cost, and a group of
// weight 1 gets its turn in every round. A router with no weighted group serves as before: turns
// of about quantumTime each, by estimate.
//
// Every field used here is read and written under the group's mu; the router's weighted flag is
// an atomic, set once by Open.

// maxCredit bounds a group's credit, in turns: a group cannot bank more than this many turns of
// service while it is not taken.
const maxCredit = 2

// maxWeightedBatch bounds a weighted group's batch, in items a unit of weight: above
// maxQuantum, so that cheap items do not cap a heavy group's share by their count.
const maxWeightedBatch = 4 * maxQuantum

// MaxWeight is the largest weight [Weight] takes.
const MaxWeight = 1000

// weight is the group's weight: 1 unless [Weight] says otherwise.
func (g *MapGroup[K, In, Out]) weight() int64 { return int64(max(1, g.o.weight)) }

// turn refills g's credit for a worker's turn and returns how many items the worker takes, or
// false if g passes its turn: its credit is still not positive and others, another group, waits.
// A worker that found every group in reach locked and waited for the front one's lock, which
// stays at the front of the queue, takes what is left of its credit and no new turn (popped is
// false): when it did, the group at the front got extra turns whenever the workers contended for
// the locks (4 workers on 2 processors: the weight-3 group got 60% instead of 75%). g.mu is held.
func (g *MapGroup[K, In, Out]) turn(popped, others bool) (int, bool) {
	grant := g.grant()
	if !popped {
		grant = 0
		others = true
	}
	credit := g.credit.Load()
	credit = max(credit, min(credit+grant, maxCredit*g.grant())) // banked turns are kept
	if credit <= 0 && others {
		g.credit.Store(credit)
		return 0, false
	}
	if credit <= 0 {
		credit = grant // no one else waits: the debt is forgiven
	}
	g.credit.Store(credit)
	if g.svc.Ns() == 0 {
		return g.quantum, true // not measured yet: one item at a time, as an unweighted group
	}
	return int(max(1, min(g.weight()*maxWeightedBatch, credit/g.svc.Ns()))), true
}

// grant is the credit a turn gives g.
func (g *MapGroup[K, In, Out]) grant() int64 { return g.weight() * quantumTime.Nanoseconds() }

// passed gives g the credit of the turn it loses when a worker passes it over because its lock
// is busy (a reader taking its results, a worker publishing, or any of them stopped by the
// system while it holds the lock on a loaded machine): without it, a group whose lock was busy
// lost turns to the others, and a group of weight 3 beside one of weight 1 got 55% of the
// service instead of 75%, since every turn of the other refilled its credit. Up to maxBanked
// turns are banked so, and spent in larger batches once the lock is free. Called under the
// router's mu, not g's.
func (g *MapGroup[K, In, Out]) passed() {
	grant := g.grant()
	for {
		c := g.credit.Load()
		if c >= maxBanked*grant || g.credit.CompareAndSwap(c, min(c+grant, maxBanked*grant)) {
			return
		}
	}
}

// maxCharge bounds what a batch is charged, as a multiple of its estimate: a batch whose thread
// the system stopped for milliseconds on a loaded machine did no more work than its items.
const maxCharge = 4

// maxBanked bounds the turns a group passed over banks (see passed).
const maxBanked = 64

// charge charges g's credit with the estimated cost of the batch b just claimed. g.mu is held.
func (g *MapGroup[K, In, Out]) charge(b *batch[K, In, Out]) {
	b.est = int64(len(b.idx)) * g.svc.Ns()
	g.credit.Add(-b.est)
}

// settle replaces the estimated cost of the batch b with its measured time, if it was measured.
// g.mu is held.
func (g *MapGroup[K, In, Out]) settle(b *batch[K, In, Out]) {
	if b.took >= 0 {
		took := b.took.Nanoseconds()
		if b.est > 0 {
			took = min(took, maxCharge*b.est)
		}
		g.credit.Add(b.est - took)
	}
}
