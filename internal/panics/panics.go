package panics

import (
	"fmt"
	"runtime/debug"
)

// Error is a panic recovered from a user func, with the stack captured where it was recovered.
type Error struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine, as printed by runtime/debug.Stack.
	Stack []byte
}

// New captures the current goroutine's stack. Call it from the deferred func that recovered v.
func New(v any) *Error {
	return &Error{Value: v, Stack: debug.Stack()}
}

// Error returns the panic value and the stack.
func (e *Error) Error() string {
	return fmt.Sprintf("panic: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value when it is an error, so errors.Is and errors.As reach it.
func (e *Error) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// Repanic panics again with the original value, keeping the captured stack in the message so the
// origin of the panic is not lost when it is re-raised on another goroutine.
func (e *Error) Repanic() {
	panic(fmt.Sprintf("%v [recovered and re-raised]\n\noriginal stack:\n%s", e.Value, e.Stack))
}
