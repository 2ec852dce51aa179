package bench

import "context"

// Work returns the work func that the fused designs (pool, group) run on every item of w.
// (Placeholder: it calls the stages directly until the fsm package lands; then it runs an
// fsm.Machine built from w's stages, so the machine's dispatch is part of what is measured.)
func Work(w Workload) func(context.Context, Item) (Item, error) {
	return w.Apply
}
