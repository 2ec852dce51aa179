package jetstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// The test binary started again with workerEnv set runs workerMain instead of the tests: one
// consumer process of TestProcessesShareOneConsumer. It reads the server's URL and its sink
// file from the environment, records every event it processes as a line "seq n" in the file
// (a write(2) per event, before the acknowledgement, so a SIGKILL loses no recorded line: the
// kernel has it), announces each recorded sequence on recordedSubject, prints "progress <count>"
// every progressEvery events, and on SIGTERM shuts down gracefully and prints "stats <json>".
const (
	workerEnv       = "STAGECOACH_JETSTREAM_WORKER"
	workerURLEnv    = "STAGECOACH_JETSTREAM_URL"
	workerSinkEnv   = "STAGECOACH_JETSTREAM_SINK"
	recordedSubject = "sink.recorded"
	progressEvery   = 1000
)

func workerMain() int {
	if err := runWorker(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	return 0
}

func runWorker() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	nc, err := nats.Connect(os.Getenv(workerURLEnv), nats.MaxReconnects(-1),
		nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := natsjs.New(nc)
	if err != nil {
		return err
	}
	file, err := os.OpenFile(os.Getenv(workerSinkEnv), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer file.Close()

	var mu sync.Mutex
	var processed atomic.Int64
	work := func(_ context.Context, e event) (event, error) {
		seq := strconv.FormatUint(e.Seq, 10)
		mu.Lock()
		_, err := file.WriteString(seq + " " + strconv.Itoa(e.N) + "\n")
		mu.Unlock()
		if err != nil {
			return e, err
		}
		if err := nc.Publish(recordedSubject, []byte(seq)); err != nil {
			return e, err
		}
		if n := processed.Add(1); n%progressEvery == 0 {
			fmt.Printf("progress %d\n", n)
		}
		return e, nil
	}
	r := group.New[string](work, group.Workers(2))
	f, err := jetstream.New(ctx, js, stream, consumerName, r, decodeEvent,
		jetstream.DeadLetter(dlqSubject), jetstream.MaxInFlight(256))
	if err != nil {
		return err
	}
	runErr := f.Run(ctx)
	if err := r.Shutdown(context.Background()); err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	st, err := json.Marshal(f.Stats())
	if err != nil {
		return err
	}
	fmt.Printf("stats %s\n", st)
	return runErr
}
