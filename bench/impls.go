package bench

import "errors"

// Impl is one named implementation of the workloads.
type Impl struct {
	// Name is the <impl> part of the benchmark names: direct, hand, pipe, pool, pool-slice, group,
	// group-batch.
	Name string
	// Run processes a whole workload once and checks every result.
	Run Run
}

// ErrNotImplemented is returned by an implementation that cannot express a workload.
var ErrNotImplemented = errors.New("bench: not implemented")

// Impls returns Stagecoach's implementations in report order.
func Impls() []Impl {
	return []Impl{
		{Name: "direct", Run: Direct},
		{Name: "hand", Run: Hand},
		{Name: "pipe", Run: Pipe},
		{Name: "pool", Run: Pool},
		{Name: "pool-slice", Run: PoolSlice},
		{Name: "group", Run: Group},
		{Name: "group-batch", Run: GroupBatch},
	}
}
