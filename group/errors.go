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

// An ItemError carries the item of a [MapRouter]'s group that failed, as it was submitted: the
// error of a failed item's result is an *[Error] with the group's key wrapping an *ItemError
// wrapping the cause, so that errors.As recovers both the key and the item:
//
//	var ie *group.ItemError[Request]
//	if errors.As(err, &ie) {
//		log.Printf("request %v failed: %v", ie.Item.ID, ie.Err)
//	}
//
// (A [Router]'s failed item is its result's value: it needs no ItemError.) Error returns the
// cause's text, which the *Error around it prefixes with the key.
type ItemError[In any] struct {
	Item In    // the item as it was submitted
	Err  error // the cause
}

func (e *ItemError[In]) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ItemError[In]) Unwrap() error { return e.Err }

// sameItem is a [Router]'s failed item's result: the item itself, with the cause and the key.
func sameItem[K comparable, T any](key K, v T, cause error) (T, error) {
	return v, &Error[K]{Key: key, Err: cause}
}

// itemFailed is a [MapRouter]'s failed item's result: the zero Out, and an error that carries the
// key and the item. The two errors are made in one allocation.
func itemFailed[K comparable, In, Out any](key K, v In, cause error) (Out, error) {
	var zero Out
	e := &struct {
		Error[K]
		ItemError[In]
	}{Error[K]{Key: key}, ItemError[In]{Item: v, Err: cause}}
	e.Error.Err = &e.ItemError
	return zero, &e.Error
}

// result is the result of item v of g that failed with cause (not yet wrapped with the key).
func (g *MapGroup[K, In, Out]) result(v In, cause error) (Out, error) {
	return g.r.fail(g.key, v, cause)
}

// submitErr is the error of a submission to g refused with err.
func (g *MapGroup[K, In, Out]) submitErr(err error) *Error[K] {
	return &Error[K]{Key: g.key, Op: "submit", Err: err}
}

// failedCause is what ends a fail-fast group whose first failure is first (the work func's error
// or a panic, not yet wrapped with the key).
func failedCause(first error) error { return fmt.Errorf("%w: %w", ErrGroupFailed, first) }

// nilContext panics for a nil context passed to the entry point call (with its prefix).
func nilContext(call string) {
	panic(call + ": nil context (use context.Background() or a caller's ctx)")
}
