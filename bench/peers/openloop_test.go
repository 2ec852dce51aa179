package peers_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/bench/peers"
)

// BenchmarkOpenLoop is bench's BenchmarkOpenLoop with the peers (see bench.MeasureOpenLoop).
func BenchmarkOpenLoop(b *testing.B) {
	for _, svc := range peers.OpenLoopServices() {
		for _, load := range bench.OpenLoopLoads() {
			b.Run(fmt.Sprintf("%s/load=%d", svc.Name, load), func(b *testing.B) {
				bench.MeasureOpenLoop(b, svc, load)
			})
		}
	}
}

// Every open-loop design, Stagecoach's and the peers', gives every connection exactly its own
// results at its capacity and on a Poisson schedule.
func TestEveryOpenLoopServiceIsCorrect(t *testing.T) {
	for _, svc := range peers.OpenLoopServices() {
		t.Run(svc.Name, func(t *testing.T) {
			w := bench.Workload{Name: "OpenLoop", Streams: 8, Items: 25, Stages: bench.Trivial(4)}
			srv := svc.Start(w)
			capacity, err := bench.Capacity(srv, w)
			require.NoError(t, err)
			load, err := bench.OpenLoop(srv, w, bench.Schedule(w.Total(), capacity/4, 11))
			require.NoError(t, err)
			require.NoError(t, srv.Close())
			assert.Len(t, load.Latencies, w.Total())
		})
	}
}
