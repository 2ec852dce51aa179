package pipe_test

import (
	"context"
	"flag"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/pipe"
)

var stressRuns = flag.Int("stress.runs", 60, "pipelines run by each stress test")

// stressStage is one ordered stage of a stress pipeline, with the sequential model of what it does
// to the stream.
type stressStage struct {
	kind  string
	opts  []pipe.Option
	apply func(p *pipe.Pipeline, in <-chan int) <-chan int
	model func(in []int) []int
}

// fanout is how many outputs the stress FlatMap gives item v: mostly 0 to 3, sometimes more than
// an ordered item keeps before its turn (64), so the hand-over in parts is exercised.
func fanout(v, k int) int {
	if (v+k)%97 == 0 {
		return 65 + (v+k)%150
	}
	return (v + k) % 4
}

// yielder gives a stage func a random number of processor yields per item: a deterministic
// function of the item, so slow and fast items interleave differently in every round.
func yielder(salt uint64) func(v int) {
	return func(v int) {
		n := (uint64(v)*0x9e3779b97f4a7c15 + salt) >> 61 // 0..7
		for range n / 2 {
			runtime.Gosched()
		}
	}
}

func drawStressStage(r *rand.Rand) stressStage {
	opts := []pipe.Option{pipe.Ordered(), pipe.Workers(1 + r.IntN(8)), pipe.Window(1 + r.IntN(16)), pipe.Buffer(1 + r.IntN(16))}
	pause := yielder(r.Uint64())
	k := r.IntN(1000)
	switch r.IntN(3) {
	case 0:
		return stressStage{kind: "Map", opts: opts,
			apply: func(p *pipe.Pipeline, in <-chan int) <-chan int {
				return pipe.Map(p, in, func(_ context.Context, v int) (int, error) { pause(v); return 3*v + k, nil }, opts...)
			},
			model: func(in []int) []int {
				out := make([]int, 0, len(in))
				for _, v := range in {
					out = append(out, 3*v+k)
				}
				return out
			}}
	case 1:
		return stressStage{kind: "Filter", opts: opts,
			apply: func(p *pipe.Pipeline, in <-chan int) <-chan int {
				return pipe.Filter(p, in, func(_ context.Context, v int) (bool, error) { pause(v); return (v+k)%3 != 0, nil }, opts...)
			},
			model: func(in []int) []int {
				var out []int
				for _, v := range in {
					if (v+k)%3 != 0 {
						out = append(out, v)
					}
				}
				return out
			}}
	default:
		return stressStage{kind: "FlatMap", opts: opts,
			apply: func(p *pipe.Pipeline, in <-chan int) <-chan int {
				return pipe.FlatMap(p, in, func(_ context.Context, v int, emit func(int) bool) error {
					pause(v)
					for j := range fanout(v, k) {
						if !emit(v*1000 + j) {
							return nil
						}
					}
					return nil
				}, opts...)
			},
			model: func(in []int) []int {
				var out []int
				for _, v := range in {
					for j := range fanout(v, k) {
						out = append(out, v*1000+j)
					}
				}
				return out
			}}
	}
}

// Ordered stages deliver every item exactly once and in input order, whatever their workers,
// windows, buffers and the timing of their funcs: random pipelines of 1 to 4 ordered Map, Filter
// and FlatMap stages over random inputs, checked item by item against a sequential model. The
// seed is logged on failure; the number of rounds bounds the time (run by the stress pass with
// -race at -cpu 1,2,4,8).
func TestStressOrderedStagesExactlyOnceInOrder(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, seed>>1))
	rounds := *stressRuns
	if testing.Short() {
		rounds = min(rounds, 20)
	}
	items := 0
	for round := range rounds {
		n := r.IntN(3000)
		if r.IntN(4) == 0 {
			n = r.IntN(20) // the small cases: empty, one item, fewer items than workers
		}
		stages := make([]stressStage, 1+r.IntN(4))
		for i := range stages {
			stages[i] = drawStressStage(r)
		}
		// A deadline far beyond a round's time turns a hang into a failure with the seed.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		p := pipe.New(ctx)
		ch := pipe.FromSlice(p, ints(n))
		want := ints(n)
		var desc []string
		for _, s := range stages {
			ch = s.apply(p, ch)
			want = s.model(want)
			desc = append(desc, s.kind)
		}
		got, err := pipe.Collect(p, ch)
		cancel()
		require.NoError(t, err, "seed %d round %d (%d items, stages %v)", seed, round, n, desc)
		if len(want) != len(got) {
			t.Fatalf("seed %d round %d (%d items, stages %v): %d outputs, want %d", seed, round, n, desc, len(got), len(want))
		}
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("seed %d round %d (%d items, stages %v): output %d is %d, want %d (lost, repeated or out of order)",
					seed, round, n, desc, i, got[i], want[i])
			}
		}
		items += len(got)
	}
	t.Logf("%d pipelines, %d outputs checked (seed %d)", rounds, items, seed)
}
