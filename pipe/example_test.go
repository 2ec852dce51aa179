package pipe_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stagecoach-go/stagecoach/pipe"
)

func ExampleMap() {
	p := pipe.New(context.Background())
	squares := pipe.Map(p, pipe.From(p, 1, 2, 3, 4), func(_ context.Context, n int) (int, error) {
		return n * n, nil
	}, pipe.Workers(3), pipe.Ordered())
	got, err := pipe.Collect(p, squares)
	fmt.Println(got, err)
	// Output: [1 4 9 16] <nil>
}

// ExampleWindow runs a stage on four workers in input order, with at most eight items inside it
// at once: a slow item holds back at most seven finished ones.
func ExampleWindow() {
	p := pipe.New(context.Background())
	lengths := pipe.Map(p, pipe.From(p, "a", "bb", "ccc", "dddd", "eeeee"), func(_ context.Context, s string) (int, error) {
		return len(s), nil
	}, pipe.Workers(4), pipe.Ordered(), pipe.Window(8))
	got, err := pipe.Collect(p, lengths)
	fmt.Println(got, err)
	// Output: [1 2 3 4 5] <nil>
}

func ExampleFilter() {
	p := pipe.New(context.Background())
	even := pipe.Filter(p, pipe.FromSlice(p, []int{1, 2, 3, 4, 5, 6}), func(_ context.Context, n int) (bool, error) {
		return n%2 == 0, nil
	})
	got, err := pipe.Collect(p, even)
	fmt.Println(got, err)
	// Output: [2 4 6] <nil>
}

func ExampleFlatMap() {
	p := pipe.New(context.Background())
	words := pipe.FlatMap(p, pipe.From(p, "to be", "or not"), func(_ context.Context, line string, emit func(string) bool) error {
		for _, w := range strings.Fields(line) {
			if !emit(w) {
				break
			}
		}
		return nil
	})
	got, err := pipe.Collect(p, words)
	fmt.Println(got, err)
	// Output: [to be or not] <nil>
}

func ExampleBatch() {
	p := pipe.New(context.Background())
	batches := pipe.Batch(p, pipe.FromSeq(p, slices.Values([]int{1, 2, 3, 4, 5})), 2, time.Second)
	got, err := pipe.Collect(p, batches)
	fmt.Println(got, err)
	// Output: [[1 2] [3 4] [5]] <nil>
}

func ExampleMerge() {
	p := pipe.New(context.Background())
	all := pipe.Merge(p, pipe.From(p, 1, 2), pipe.From(p, 3), pipe.From(p, 4, 5))
	sum, err := pipe.Reduce(p, all, 0, func(acc, n int) int { return acc + n })
	fmt.Println(sum, err)
	// Output: 15 <nil>
}

func ExampleTee() {
	p := pipe.New(context.Background())
	copies := pipe.Tee(p, pipe.From(p, "a", "b"), 2)
	var wg sync.WaitGroup
	got := make([][]string, 2)
	for i, c := range copies {
		wg.Go(func() {
			for v := range c {
				got[i] = append(got[i], v)
			}
		})
	}
	wg.Wait()
	fmt.Println(got, p.Wait())
	// Output: [[a b] [a b]] <nil>
}

func ExampleAll() {
	p := pipe.New(context.Background())
	naturals := pipe.Generate(p, func(_ context.Context, emit func(int) bool) error {
		for i := 1; emit(i); i++ {
		}
		return nil
	})
	for n, err := range pipe.All(p, naturals) {
		if err != nil || n > 3 {
			break // stops the generator and every stage; nothing is left running
		}
		fmt.Println(n)
	}
	// Output:
	// 1
	// 2
	// 3
}

func ExampleForEach_error() {
	errTooBig := errors.New("too big")
	p := pipe.New(context.Background())
	checked := pipe.Map(p, pipe.From(p, 1, 2, 300, 4), func(_ context.Context, n int) (int, error) {
		if n > 100 {
			return 0, fmt.Errorf("item %d: %w", n, errTooBig)
		}
		return n, nil
	}, pipe.Name("check"))
	err := pipe.ForEach(p, checked, func(context.Context, int) error { return nil })
	var se *pipe.StageError
	fmt.Println(err)
	fmt.Println(errors.Is(err, errTooBig), errors.As(err, &se), se.Stage)
	// Output:
	// pipe: check (Map #2): item 300: too big
	// true true check (Map #2)
}

// Example_perItemErrors keeps going past bad items: the error travels with its item, in the item
// type, so no stage fails and no success still in flight is dropped.
func Example_perItemErrors() {
	type parsed struct {
		line string
		n    int
		err  error
	}
	p := pipe.New(context.Background())
	results := pipe.Map(p, pipe.From(p, "1", "two", "3"), func(_ context.Context, line string) (parsed, error) {
		n, err := strconv.Atoi(line)
		return parsed{line: line, n: n, err: err}, nil // the item's error, not the stage's
	}, pipe.Workers(2), pipe.Ordered())
	err := pipe.ForEach(p, results, func(_ context.Context, r parsed) error {
		if r.err != nil {
			fmt.Printf("%q: skipped\n", r.line)
			return nil
		}
		fmt.Printf("%q: %d\n", r.line, r.n)
		return nil
	})
	fmt.Println(err)
	// Output:
	// "1": 1
	// "two": skipped
	// "3": 3
	// <nil>
}

// Message is a chat message on its way from a sender to the room.
type Message struct {
	Seq  int
	User string
	Text string
	At   time.Time
}

// Example_chat is a chat room as a pipeline: messages are censored, stamped with metadata,
// persisted and distributed to the room, each step a stage.
func Example_chat() {
	banned := map[string]string{"darn": "d**n", "heck": "h**k"}
	clock := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var store []Message // the in-memory data store
	room := map[string][]string{"ann": nil, "bob": nil}

	censor := func(_ context.Context, m Message) (Message, error) {
		for word, masked := range banned {
			m.Text = strings.ReplaceAll(m.Text, word, masked)
		}
		return m, nil
	}
	stamp := func(_ context.Context, m Message) (Message, error) {
		m.At = clock.Add(time.Duration(m.Seq) * time.Second)
		return m, nil
	}
	persist := func(_ context.Context, m Message) (Message, error) {
		store = append(store, m)
		return m, nil
	}
	distribute := func(_ context.Context, m Message) error {
		for user := range room {
			if user != m.User {
				room[user] = append(room[user], fmt.Sprintf("%s %s: %s", m.At.Format("15:04:05"), m.User, m.Text))
			}
		}
		return nil
	}

	p := pipe.New(context.Background())
	incoming := pipe.From(p,
		Message{Seq: 1, User: "ann", Text: "hi bob"},
		Message{Seq: 2, User: "bob", Text: "what the heck, ann"},
		Message{Seq: 3, User: "ann", Text: "darn right"},
	)
	censored := pipe.Map(p, incoming, censor, pipe.Workers(2), pipe.Ordered())
	stamped := pipe.Map(p, censored, stamp)
	persisted := pipe.Map(p, stamped, persist)
	if err := pipe.ForEach(p, persisted, distribute); err != nil {
		fmt.Println(err)
	}
	fmt.Println(len(store), "stored")
	fmt.Println("ann sees:", room["ann"])
	fmt.Println("bob sees:", room["bob"])
	// Output:
	// 3 stored
	// ann sees: [09:00:02 bob: what the h**k, ann]
	// bob sees: [09:00:01 ann: hi bob 09:00:03 ann: d**n right]
}

// ExampleFirst takes the first match of an endless search: First stops the pipeline as soon as it
// has it, so the generator and the stage end.
func ExampleFirst() {
	p := pipe.New(context.Background())
	naturals := pipe.Generate(p, func(_ context.Context, emit func(int) bool) error {
		for i := 1; emit(i); i++ {
		}
		return nil
	})
	squares := pipe.Map(p, naturals, func(_ context.Context, n int) (int, error) { return n * n, nil })
	big := pipe.Filter(p, squares, func(_ context.Context, n int) (bool, error) { return n > 500, nil })
	n, ok, err := pipe.First(p, big)
	fmt.Println(n, ok, err)
	fmt.Println(errors.Is(context.Cause(p.Context()), context.Canceled))
	// Output:
	// 529 true <nil>
	// true
}

func ExampleAny() {
	p := pipe.New(context.Background())
	found, err := pipe.Any(p, pipe.From(p, "ok", "ok", "bad", "ok"), func(_ context.Context, s string) (bool, error) {
		return s == "bad", nil
	}, pipe.Workers(2))
	fmt.Println(found, err)
	// Output: true <nil>
}

func ExampleEvery() {
	p := pipe.New(context.Background())
	all, err := pipe.Every(p, pipe.From(p, 2, 4, 7, 8), func(_ context.Context, n int) (bool, error) {
		return n%2 == 0, nil
	})
	fmt.Println(all, err)
	// Output: false <nil>
}

// ExampleForEach_workers runs a sink func on three goroutines at once; it must then be safe for
// concurrent use.
func ExampleForEach_workers() {
	p := pipe.New(context.Background())
	var mu sync.Mutex
	total := 0
	err := pipe.ForEach(p, pipe.FromSlice(p, []int{1, 2, 3, 4, 5}), func(_ context.Context, n int) error {
		mu.Lock()
		defer mu.Unlock()
		total += n
		return nil
	}, pipe.Workers(3))
	fmt.Println(total, err)
	// Output: 15 <nil>
}

// Example_mapReduce counts words the way a MapReduce does, with no combinator of its own: a
// FlatMap on several workers splits the lines (the costly part, in parallel), and a Reduce folds
// the words into a map on one goroutine.
func Example_mapReduce() {
	p := pipe.New(context.Background())
	lines := pipe.From(p, "to be or not to be", "that is the question", "to be")
	words := pipe.FlatMap(p, lines, func(_ context.Context, line string, emit func(string) bool) error {
		for _, w := range strings.Fields(line) {
			if !emit(w) {
				break
			}
		}
		return nil
	}, pipe.Workers(3))
	counts, err := pipe.Reduce(p, words, map[string]int{}, func(m map[string]int, w string) map[string]int {
		m[w]++
		return m
	})
	for _, w := range slices.Sorted(maps.Keys(counts)) {
		if counts[w] > 1 {
			fmt.Println(w, counts[w])
		}
	}
	fmt.Println(err)
	// Output:
	// be 3
	// to 3
	// <nil>
}

// ExampleErrStopped tells a shutdown from a failure in a source: once First has its item it stops
// the pipeline, and the cause the generator sees is ErrStopped, a context.Canceled.
func ExampleErrStopped() {
	p := pipe.New(context.Background())
	naturals := pipe.Generate(p, func(ctx context.Context, emit func(int) bool) error {
		for i := 1; emit(i); i++ {
		}
		cause := context.Cause(ctx)
		fmt.Println("generator:", cause, errors.Is(cause, context.Canceled), cause == pipe.ErrStopped)
		return nil
	})
	n, ok, err := pipe.First(p, naturals)
	fmt.Println(n, ok, err)
	// Output:
	// generator: pipe: stopped early: context canceled true true
	// 1 true <nil>
}
