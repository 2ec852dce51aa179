// Package panics turns a recovered panic into an error that carries the panic value and the stack
// of the goroutine that panicked. Every package of the module that runs user funcs uses it, so
// that one error type ([Error]) describes a captured panic everywhere; the public packages export it
// under their own name with a type alias (fsm.PanicError, pool.PanicError, ...), so errors.As with
// any of them matches a panic captured by any package.
//
// The documentation of the fields and of the formatting is here, on [Error]; an alias's comment
// lists the fields, because go doc does not show an alias's fields when the type is internal.
//
// A user func that calls runtime.Goexit on a goroutine a package owns is reported with
// [ErrGoexit]: [Caught] tells the two apart from what recover returned.
package panics
