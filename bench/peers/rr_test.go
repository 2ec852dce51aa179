package peers_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/bench/peers"
)

// Every service, Stagecoach's and the peers', gives every client exactly its own results, one
// round trip at a time.
func TestEveryServiceIsCorrect(t *testing.T) {
	for _, svc := range peers.Services() {
		for _, c := range []int{1, 16} {
			t.Run(fmt.Sprintf("%s/clients=%d", svc.Name, c), func(t *testing.T) {
				w := bench.RequestResponse(c, true)
				srv := svc.Start(w)
				_, err := bench.RoundTrips(srv, w)
				require.NoError(t, err)
				require.NoError(t, srv.Close())
			})
		}
	}
}

func BenchmarkRequestResponse(b *testing.B) {
	for _, svc := range peers.Services() {
		for _, c := range []int{1, 64, 1024} {
			b.Run(fmt.Sprintf("%s/clients=%d", svc.Name, c), func(b *testing.B) {
				bench.MeasureRoundTrips(b, svc, bench.RequestResponse(c, testing.Short()))
			})
		}
	}
}
