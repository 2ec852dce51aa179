package group

import "fmt"

// An Error is an error of one group: every error that [Router.Open], [Group.Submit] and
// [Group.TrySubmit] return, and every error they put on a result, is an *Error that carries the
// key of the group and the cause. errors.Is and errors.As reach the cause through it: the
// sentinel errors of this package ([ErrWindowFull], [ErrGroupClosed], [ErrGroupFailed], ...), a
// *[PanicError], the work func's own error, or a context's cause. errors.As recovers the key:
//
//	var ge *group.Error[ConnID]
//	if errors.As(err, &ge) {
//		log.Printf("connection %v: %v", ge.Key, ge.Err)
//	}
//
// Error returns "group <key>: <op>: <cause>", or "group <key>: <cause>" for an item's result.
type Error[K comparable] struct {
	Key K      // the group's key
	Op  string // what failed: "open" or "submit"; empty for an item's result
	Err error  // the cause
}

func (e *Error[K]) Error() string {
	if e.Op == "" {
		return fmt.Sprintf("group %v: %v", e.Key, e.Err)
	}
	return fmt.Sprintf("group %v: %s: %v", e.Key, e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *Error[K]) Unwrap() error { return e.Err }

// itemErr is the error of an item of g that failed with err.
func (g *Group[K, T]) itemErr(err error) *Error[K] { return &Error[K]{Key: g.key, Err: err} }

// submitErr is the error of a submission to g refused with err.
func (g *Group[K, T]) submitErr(err error) *Error[K] {
	return &Error[K]{Key: g.key, Op: "submit", Err: err}
}

// failedCause is what ends a fail-fast group whose first failure is first (the work func's error
// or a panic, not yet wrapped with the key).
func failedCause(first error) error { return fmt.Errorf("%w: %w", ErrGroupFailed, first) }

// nilContext panics for a nil context passed to the entry point call (with its prefix).
func nilContext(call string) {
	panic(call + ": nil context (use context.Background() or a caller's ctx)")
}
