package pool_test

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"maps"
	"slices"
	"strings"
	"testing/fstest"

	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/pool"
)

func ExampleRun() {
	shout := func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }
	words := slices.Values([]string{"stage", "coach", "runs", "typed", "stages"})
	for word, err := range pool.Run(context.Background(), words, shout, pool.Workers(3), pool.Ordered()) {
		fmt.Println(word, err)
	}
	// Output:
	// STAGE <nil>
	// COACH <nil>
	// RUNS <nil>
	// TYPED <nil>
	// STAGES <nil>
}

func ExampleRun_errors() {
	errOdd := errors.New("odd")
	even := func(_ context.Context, n int) (int, error) {
		if n%2 == 1 {
			return 0, errOdd
		}
		return n * 10, nil
	}
	// Each failed item comes back as it went in, with its error; the others carry on.
	for n, err := range pool.Run(context.Background(), slices.Values([]int{1, 2, 3, 4}), even, pool.Ordered()) {
		fmt.Println(n, err)
	}
	// Output:
	// 1 odd
	// 20 <nil>
	// 3 odd
	// 40 <nil>
}

func ExampleFailFast() {
	errBad := errors.New("bad input")
	parse := func(_ context.Context, s string) (string, error) {
		if s == "" {
			return "", errBad
		}
		return "ok:" + s, nil
	}
	src := slices.Values([]string{"a", "b", "", "c", "d"})
	for v, err := range pool.Run(context.Background(), src, parse, pool.FailFast(), pool.Workers(1)) {
		fmt.Printf("%q %v\n", v, err)
	}
	// Output:
	// "ok:a" <nil>
	// "ok:b" <nil>
	// "" bad input
}

func ExampleRunChan() {
	src := make(chan int)
	go func() {
		defer close(src)
		for i := 1; i <= 3; i++ {
			src <- i
		}
	}()
	square := func(_ context.Context, n int) (int, error) { return n * n, nil }
	for r := range pool.RunChan(context.Background(), src, square, pool.Ordered()) {
		fmt.Println(r.Value, r.Err)
	}
	// Output:
	// 1 <nil>
	// 4 <nil>
	// 9 <nil>
}

// Example_machine runs a state machine of stages through the pool: its Do method is the work func.
func Example_machine() {
	type job struct {
		n    int
		path string
	}
	step := func(name string, next func(job) string) fsm.StageFunc[string, job] {
		return func(_ context.Context, j job) (job, string, error) {
			j.path += name + " "
			return j, next(j), nil
		}
	}
	m, err := fsm.NewBuilder[string, job]().
		Stage("parse", step("parse", func(j job) string {
			if j.n%2 == 0 {
				return "even"
			}
			return "odd"
		}), "even", "odd").
		Stage("even", step("even", func(job) string { return "done" }), "done").
		Stage("odd", step("odd", func(job) string { return "done" }), "done").
		Terminal("done").
		Build("parse")
	if err != nil {
		panic(err)
	}
	jobs := slices.Values([]job{{n: 1}, {n: 2}, {n: 3}})
	for j, err := range pool.Run(context.Background(), jobs, m.Do, pool.Ordered()) {
		fmt.Println(j.n, j.path, err)
	}
	// Output:
	// 1 parse odd  <nil>
	// 2 parse even  <nil>
	// 3 parse odd  <nil>
}

// file is one file of a tree and, once summed, its MD5 sum.
type file struct {
	path string
	sum  [md5.Size]byte
}

// walk yields every regular file of fsys, and the error of each directory it cannot read: a
// source that fails mid-stream.
func walk(fsys fs.FS) iter.Seq2[file, error] {
	return func(yield func(file, error) bool) {
		_ = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.Type().IsRegular() {
				return nil
			}
			if !yield(file{path: path}, err) {
				return fs.SkipAll
			}
			return nil
		})
	}
}

// summer is the work func: it reads a file of fsys and sums it.
func summer(fsys fs.FS) func(context.Context, file) (file, error) {
	return func(_ context.Context, f file) (file, error) {
		data, err := fs.ReadFile(fsys, f.path)
		if err != nil {
			return f, err
		}
		f.sum = md5.Sum(data)
		return f, nil
	}
}

// lockedFS is a tree in which one directory cannot be read.
type lockedFS struct {
	fstest.MapFS
	locked string
}

func (l lockedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == l.locked {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrPermission}
	}
	return l.MapFS.ReadDir(name)
}

// tree is the example's tree: three files and a directory that cannot be read.
func tree() lockedFS {
	return lockedFS{MapFS: fstest.MapFS{
		"a.txt":          {Data: []byte("stage\n")},
		"b/c.txt":        {Data: []byte("coach\n")},
		"b/d.txt":        {Data: []byte("pipe\n")},
		"secret/key.txt": {Data: []byte("hidden\n")},
	}, locked: "secret"}
}

// ExampleRunSeq2 sums every file of a tree, as the MD5-of-a-tree program of the Go blog's
// pipelines article does, over a walk that fails on one directory: the walk's error is that
// position's result, and the other files are summed.
func ExampleRunSeq2() {
	fsys := tree()
	for f, err := range pool.RunSeq2(context.Background(), walk(fsys), summer(fsys), pool.Ordered()) {
		if err != nil {
			fmt.Printf("%s: %v\n", f.path, err)
			continue
		}
		fmt.Printf("%x  %s\n", f.sum, f.path)
	}
	// Output:
	// 3ee9cdc52eb4d32178be892211dda4e8  a.txt
	// 0b10037345da39f3baeaf6b40b01c4e7  b/c.txt
	// b546d2a139639837522b41012a914fb1  b/d.txt
	// secret: readdir secret: permission denied
}

// md5All is the blog's MD5All over a pool: the sums of every file of fsys, or the first error,
// of the walk or of a read, which ends the run.
func md5All(ctx context.Context, fsys fs.FS) (map[string][md5.Size]byte, error) {
	sums := map[string][md5.Size]byte{}
	for f, err := range pool.RunSeq2(ctx, walk(fsys), summer(fsys), pool.FailFast()) {
		if err != nil {
			return nil, err
		}
		sums[f.path] = f.sum
	}
	return sums, nil
}

// ExampleRunSeq2_failFast is the blog's MD5All: with FailFast, the walk's error ends the run.
func ExampleRunSeq2_failFast() {
	fsys := tree()
	if _, err := md5All(context.Background(), fsys); err != nil {
		fmt.Println("error:", err)
	}
	fsys.locked = "" // every directory readable now
	sums, err := md5All(context.Background(), fsys)
	if err != nil {
		panic(err)
	}
	for _, path := range slices.Sorted(maps.Keys(sums)) {
		fmt.Printf("%x  %s\n", sums[path], path)
	}
	// Output:
	// error: readdir secret: permission denied
	// 3ee9cdc52eb4d32178be892211dda4e8  a.txt
	// 0b10037345da39f3baeaf6b40b01c4e7  b/c.txt
	// b546d2a139639837522b41012a914fb1  b/d.txt
	// 52eaf68fadf470e9c993efb54a26ba35  secret/key.txt
}
