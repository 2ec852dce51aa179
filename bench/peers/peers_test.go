package peers_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/bench/peers"
)

func workloads(short bool) []bench.Workload {
	ws := []bench.Workload{bench.W1(short), bench.W2(short), bench.W3(short)}
	for _, n := range []int{1, 2, 4, 8} {
		ws = append(ws, bench.StageCount(n, short))
	}
	return ws
}

// Every implementation, Stagecoach's and the peers', computes every item of the short workloads
// correctly: what CI checks of the suites.
func TestEveryImplIsCorrect(t *testing.T) {
	for _, impl := range peers.Impls() {
		for _, w := range workloads(true) {
			t.Run(fmt.Sprintf("%s/%s/%d", impl.Name, w.Name, len(w.Stages)), func(t *testing.T) {
				err := impl.Run(w)
				if errors.Is(err, bench.ErrNotImplemented) {
					t.Skip("not implemented")
				}
				require.NoError(t, err)
			})
		}
	}
}

func measure(b *testing.B, name string, w bench.Workload, run bench.Run) {
	b.Run(name, func(b *testing.B) { bench.Measure(b, w, run) })
}

func BenchmarkW1(b *testing.B) {
	for _, impl := range peers.Impls() {
		measure(b, impl.Name, bench.W1(testing.Short()), impl.Run)
	}
}

func BenchmarkW2(b *testing.B) {
	for _, impl := range peers.Impls() {
		measure(b, impl.Name, bench.W2(testing.Short()), impl.Run)
	}
}

func BenchmarkW3(b *testing.B) {
	for _, impl := range peers.Impls() {
		measure(b, impl.Name, bench.W3(testing.Short()), impl.Run)
	}
}

func BenchmarkStages(b *testing.B) {
	for _, impl := range peers.Impls() {
		for _, n := range []int{1, 2, 4, 8} {
			measure(b, fmt.Sprintf("%s/stages=%d", impl.Name, n), bench.StageCount(n, testing.Short()), impl.Run)
		}
	}
}
