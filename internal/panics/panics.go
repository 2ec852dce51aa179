package panics

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
)

// Error is a panic recovered from a user func: the error a package of the module gives in place of
// the result the func did not return. Its fields are
//
//   - Value: the value passed to panic (a *runtime.PanicNilError for panic(nil));
//   - Stack: the stack of the goroutine that panicked, captured where the panic was recovered, as
//     printed by runtime/debug.Stack, so the frames of the panicking func are in it.
//
// Error returns one line, "panic: " and the value; the stack stays in its field, and formatting
// with %+v prints the line, a blank line and the stack. errors.Is and errors.As reach a Value that
// is an error (Unwrap).
type Error struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine, as printed by runtime/debug.Stack.
	Stack []byte
}

// ErrGoexit is the error a package of the module gives when a user func called runtime.Goexit
// (what testing.T.FailNow does) on a goroutine the package owns: the goroutine has ended, and the
// func returned no result.
var ErrGoexit = errors.New("user func called runtime.Goexit")

// New captures the current goroutine's stack. Call it from the deferred func that recovered v.
func New(v any) *Error {
	return &Error{Value: v, Stack: debug.Stack()}
}

// Error returns "panic: " and the panic value, on one line.
func (e *Error) Error() string {
	return fmt.Sprintf("panic: %v", e.Value)
}

// Format prints the one line of Error for %v and %s, quoted for %q, and for %+v that line, a
// blank line and the stack.
func (e *Error) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('+'):
		_, _ = fmt.Fprintf(f, "panic: %v\n\n%s", e.Value, e.Stack)
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", e.Error())
	default:
		_, _ = io.WriteString(f, e.Error())
	}
}

// Unwrap returns the panic value when it is an error, so errors.Is and errors.As reach it.
func (e *Error) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// Caught turns what a deferred func learned about a user func that did not return into an error:
// a *Error for v, the value recover returned, or [ErrGoexit] when v is nil (since Go 1.21 a nil
// recover while the func did not return means runtime.Goexit). Call recover in the deferred func
// itself and pass its value, so the stack captured is the panicking goroutine's.
func Caught(v any) error {
	if v == nil {
		return ErrGoexit
	}
	return New(v)
}
