package service_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// BenchmarkIntakeStuckClient measures intake (POST /events, 100 events a request) with one
// websocket client that reads everything, with and without a second client that never reads.
// The ratio of the two ns/event is the README's "slow client" figure.
func BenchmarkIntakeStuckClient(b *testing.B) {
	for _, design := range designs {
		for _, stuck := range []bool{false, true} {
			b.Run(fmt.Sprintf("design=%s/stuck=%v", design, stuck), func(b *testing.B) {
				benchIntake(b, design, stuck)
			})
		}
	}
}

func benchIntake(b *testing.B, design string, stuck bool) {
	e := start(b, service.Config{Design: design, ClientQueue: 256, ClientBuffer: 64 << 10})
	if stuck {
		e.dial(b, smallReadBuffer()) // never read
	}
	reader := e.dial(b, nil)
	ctx, cancel := context.WithCancel(context.Background())
	drained := make(chan struct{})
	go func() { // drain until the cleanup closes the connection
		defer close(drained)
		for {
			if _, _, err := reader.Read(ctx); err != nil {
				return
			}
		}
	}()
	b.Cleanup(func() { cancel(); <-drained })

	const perRequest = 100
	var evs []string
	for i := range perRequest {
		evs = append(evs, event("", i%11, strings.Repeat("x", 200)))
	}
	body := strings.ReplaceAll(ndjson(evs...), `"ref":"",`, "")
	start := time.Now()
	n := 0
	for b.Loop() {
		code, res, text := e.post(b, e.key, body)
		require.Equal(b, http.StatusOK, code, text)
		require.Len(b, res, perRequest)
		n += perRequest
	}
	took := time.Since(start)
	b.ReportMetric(float64(took.Nanoseconds())/float64(n), "ns/event")
	b.ReportMetric(float64(n)/took.Seconds(), "events/s")
}
