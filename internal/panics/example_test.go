package panics_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

func Example() {
	run := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = panics.New(v)
			}
		}()
		panic(io.ErrUnexpectedEOF)
	}
	err := run()
	var pe *panics.Error
	fmt.Println(err)
	fmt.Println(errors.As(err, &pe), pe.Value, errors.Is(err, io.ErrUnexpectedEOF), len(pe.Stack) > 0)
	fmt.Println(strings.Contains(fmt.Sprintf("%+v", err), "goroutine "))
	// Output:
	// panic: unexpected EOF
	// true unexpected EOF true true
	// true
}
