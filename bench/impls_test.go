package bench_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/bench"
)

// Every implementation computes every item of every short workload correctly: the check CI runs
// on the benchmarks.
func TestImplsAreCorrect(t *testing.T) {
	workloads := []bench.Workload{bench.W1(true), bench.W2(true), bench.W3(true)}
	for _, n := range []int{1, 2, 4, 8} {
		workloads = append(workloads, bench.StageCount(n, true))
	}
	for _, impl := range bench.Impls() {
		for _, w := range workloads {
			t.Run(impl.Name+"/"+w.Name, func(t *testing.T) {
				err := impl.Run(w)
				if errors.Is(err, bench.ErrNotImplemented) {
					t.Skipf("%s does not implement %s", impl.Name, w.Name)
				}
				require.NoError(t, err)
			})
		}
	}
}

// The Sink catches every way an implementation can get a stream wrong.
func TestSinkCatchesWrongResults(t *testing.T) {
	w := bench.W3(true)
	ok := func(s, id int) bench.Item {
		it := w.Input(s, id)
		it.Val = w.Want(it)
		return it
	}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.IntRange(0, w.Streams-1).Draw(t, "stream")
		bad := rapid.IntRange(0, w.Items-1).Draw(t, "bad")
		fault := rapid.SampledFrom([]string{"none", "missing", "duplicate", "value", "stream", "error"}).Draw(t, "fault")
		k := w.NewSink(s)
		for id := range w.Items {
			it := ok(s, id)
			switch {
			case id != bad || fault == "none":
			case fault == "missing":
				continue
			case fault == "duplicate":
				k.Add(ok(s, (id+1)%w.Items), nil)
				continue
			case fault == "value":
				it.Val++
			case fault == "stream":
				it.Stream = (s + 1) % w.Streams
			case fault == "error":
				k.Add(it, errors.New("failed"))
				continue
			}
			k.Add(it, nil)
		}
		if fault == "none" {
			require.NoError(t, k.Err())
		} else {
			require.Error(t, k.Err(), "fault %s on item %d", fault, bad)
		}
	})
}
