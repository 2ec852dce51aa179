package group

// Weighted service. Once any group of a router has a [Weight], every group of it is served in
// the order of its virtual time (start-time fair queueing over measured service time): a group's
// vtime is the service time it has had, in ns, divided by its weight. A worker takes, of the
// groups at the front of the queue it can lock (up to takeScan of them), the one with the least
// vtime, and a batch worth one turn of it: its weight times quantumTime at the group's measured
// cost an item. The batch's estimated cost over the weight is added to the group's vtime when it
// is claimed (so that other workers choosing before the batch ends see it), and replaced by its
// measured time when the batch ends (every batch of a weighted router is timed). So, while
// several groups have work queued, each gets service time in proportion to its weight, whatever
// its items cost; a group of weight 1 is never starved, since the vtime of every group served
// before it grows. A group passed over because its lock is busy (its reader taking results, a
// worker publishing, either stopped by the system on a loaded machine) keeps its vtime and so
// its place: once its lock is free it is served first until it has caught up, which a deficit
// round robin, whose banked turns are spent one a round, did not do before the other groups
// finished. A group whose backlog starts (it had nothing queued or running) starts at the
// router's virtual time (the largest vtime a worker has chosen), so an idle group banks no
// service. A router with no weighted group serves as before: turns of about quantumTime each,
// by estimate, in FIFO order.
//
// Who writes what: a group's vtime is written under its mu (claim, publish, offer) and read
// without it by take under the router's mu, hence an atomic; the router's vnow is raised by take
// under the router's mu and read by offer under a group's mu, hence an atomic too.

// MaxWeight is the largest weight [Weight] takes.
const MaxWeight = 1000

// maxWeightedBatch bounds a weighted group's batch, in items a unit of weight: above
// maxQuantum, so that cheap items do not cap a heavy group's share by their count.
const maxWeightedBatch = 4 * maxQuantum

// maxCharge bounds what a batch is charged, as a multiple of its estimate: a batch whose thread
// the system stopped for milliseconds on a loaded machine did no more work than its items.
const maxCharge = 4

// weight is the group's weight: 1 unless [Weight] says otherwise.
func (g *MapGroup[K, In, Out]) weight() int64 { return int64(max(1, g.o.weight)) }

// turn returns how many items a worker takes from g in a weighted router: one turn's worth, its
// weight times quantumTime at its measured cost an item. g.mu is held.
func (g *MapGroup[K, In, Out]) turn() int {
	if g.svc.Ns() == 0 {
		return g.quantum // not measured yet: one item at a time, as an unweighted group
	}
	return int(max(1, min(g.weight()*maxWeightedBatch, g.weight()*quantumTime.Nanoseconds()/g.svc.Ns())))
}

// starts brings g's vtime up to the router's virtual time as a backlog of g starts, so that a
// group that was idle, or is new, has no service banked. g.mu is held.
func (g *MapGroup[K, In, Out]) starts() {
	if now := g.r.vnow.Load(); g.vtime.Load() < now {
		g.vtime.Store(now)
	}
}

// charge adds the estimated cost of the batch b just claimed to g's vtime. g.mu is held.
func (g *MapGroup[K, In, Out]) charge(b *batch[K, In, Out]) {
	b.est = int64(len(b.idx)) * g.svc.Ns()
	g.vtime.Add(b.est / g.weight())
}

// settle replaces the estimated cost of the batch b in g's vtime with its measured time, if it
// was measured. g.mu is held.
func (g *MapGroup[K, In, Out]) settle(b *batch[K, In, Out]) {
	if b.took >= 0 {
		took := b.took.Nanoseconds()
		if b.est > 0 {
			took = min(took, maxCharge*b.est)
		}
		g.vtime.Add(took/g.weight() - b.est/g.weight())
	}
}
