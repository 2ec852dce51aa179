package panics_test

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func capture(f func()) (err *panics.Error) {
	defer func() {
		if v := recover(); v != nil {
			err = panics.New(v)
		}
	}()
	f()
	return nil
}

func panicker() { panic(io.EOF) }

func TestErrorCarriesValueAndStack(t *testing.T) {
	err := capture(panicker)
	require.NotNil(t, err)
	assert.Equal(t, io.EOF, err.Value)
	assert.Contains(t, string(err.Stack), "panicker", "stack names the panicking func")
	assert.True(t, errors.Is(err, io.EOF), "errors.Is reaches an error panic value")
	assert.True(t, strings.HasPrefix(err.Error(), "panic: EOF"))
}

// Error is one line; the stack is in its field and in %+v only.
func TestErrorIsOneLineAndPlusVAddsTheStack(t *testing.T) {
	err := capture(panicker)
	require.NotNil(t, err)
	assert.Equal(t, "panic: EOF", err.Error())
	assert.Equal(t, "panic: EOF", fmt.Sprintf("%v", err))
	assert.Equal(t, "panic: EOF", fmt.Sprintf("%s", err))
	assert.Equal(t, `"panic: EOF"`, fmt.Sprintf("%q", err))
	plus := fmt.Sprintf("%+v", err)
	assert.True(t, strings.HasPrefix(plus, "panic: EOF\n\n"), "%+v starts with the line and a blank line: %q", plus)
	assert.Contains(t, plus, "panicker", "%+v prints the stack")
	assert.Equal(t, "panic: EOF\n\n"+string(err.Stack), plus)
}

// Caught tells a panic from runtime.Goexit by what recover returned.
func TestCaughtTellsPanicFromGoexit(t *testing.T) {
	got := make(chan error, 1)
	run := func(f func()) error {
		go func() {
			returned := false
			defer func() {
				if !returned {
					got <- panics.Caught(recover())
				} else {
					got <- nil
				}
			}()
			f()
			returned = true
		}()
		return <-got
	}
	assert.ErrorIs(t, run(runtime.Goexit), panics.ErrGoexit)
	err := run(panicker)
	var pe *panics.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, io.EOF, pe.Value)
	assert.Contains(t, string(pe.Stack), "panicker", "the stack of the panicking goroutine")
	assert.NoError(t, run(func() {}))
}

func TestUnwrapNonError(t *testing.T) {
	err := capture(func() { panic(42) })
	require.NotNil(t, err)
	assert.Nil(t, err.Unwrap())
	assert.Equal(t, 42, err.Value)
}

// Any panic value comes back as the Value, named in the message, with the stack of the panic.
func TestAnyValueIsCarried(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.OneOf(rapid.Just[any](nil), rapid.String().AsAny(), rapid.Int().AsAny()).Draw(t, "value")
		err := capture(func() { panic(v) })
		if v == nil {
			// Since Go 1.21 panic(nil) panics with a *runtime.PanicNilError.
			require.NotNil(t, err)
			assert.IsType(t, &runtime.PanicNilError{}, err.Value)
			return
		}
		require.NotNil(t, err)
		assert.Equal(t, v, err.Value)
		assert.Equal(t, "panic: "+fmt.Sprint(v), err.Error())
		assert.NotContains(t, err.Error(), "\n"+"goroutine ", "the stack is not in the one-line message")
		assert.Contains(t, string(err.Stack), "capture")
	})
}
