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

func TestUnwrapNonError(t *testing.T) {
	err := capture(func() { panic(42) })
	require.NotNil(t, err)
	assert.Nil(t, err.Unwrap())
	assert.Equal(t, 42, err.Value)
}

func TestRepanicKeepsOriginalStack(t *testing.T) {
	err := capture(panicker)
	require.NotNil(t, err)
	defer func() {
		v := recover()
		require.NotNil(t, v)
		assert.Contains(t, v.(string), "panicker")
	}()
	err.Repanic()
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
		assert.Contains(t, err.Error(), fmt.Sprint(v))
		assert.Contains(t, string(err.Stack), "capture")
	})
}
