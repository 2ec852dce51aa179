package peers

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/alitto/pond/v2"
	"github.com/destel/rill"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/stagecoach-go/stagecoach/bench"
)

// Services returns Stagecoach's request/response implementations and the peers', in report
// order. Every peer serves all clients from one shared instance with GOMAXPROCS workers, and a
// client's request waits for its own result: rill as a shared pipeline with a reply channel in
// every request (the promise design), conc, pond and errgroup as a shared pool that runs every
// request as a task.
func Services() []bench.Service {
	return append(bench.Services(),
		bench.Service{Name: "rill", Start: RillService},
		bench.Service{Name: "conc", Start: ConcService},
		bench.Service{Name: "pond", Start: PondService},
		bench.Service{Name: "errgroup", Start: ErrgroupService},
	)
}

// reply is a result on its way back to its client.
type reply struct {
	it  bench.Item
	err error
}

// call is a request of a shared pipeline: the item, its error once a stage failed (rill drops the
// value of an item whose stage returns an error, and with it the way back), and where its result
// goes.
type call struct {
	it    bench.Item
	err   error
	reply chan<- reply
}

// RillService is one rill pipeline for the whole service, a rill.Map a stage with GOMAXPROCS
// concurrency, fed by one channel every connection sends on; each request carries its
// connection's reply channel, which rill.ForEach at the end sends the result on.
func RillService(w bench.Workload) bench.Server {
	n := runtime.GOMAXPROCS(0)
	in := make(chan rill.Try[call])
	var ch <-chan rill.Try[call] = in
	for _, stage := range w.Stages {
		ch = rill.Map(ch, n, func(c call) (call, error) {
			if c.err == nil {
				c.it, c.err = stage(context.Background(), c.it)
			}
			return c, nil
		})
	}
	done := make(chan error, 1)
	go func() {
		done <- rill.ForEach(ch, 1, func(c call) error { c.reply <- reply{c.it, c.err}; return nil })
	}()
	return &taskServer{
		submit: func(it bench.Item, to chan<- reply) { in <- rill.Try[call]{Value: call{it: it, reply: to}} },
		close:  func() error { close(in); return <-done },
	}
}

// ConcService is one conc pool with GOMAXPROCS goroutines for the whole service; a request is a
// task that runs the work func of bench.Work and sends the result on its connection's reply
// channel.
func ConcService(w bench.Workload) bench.Server {
	work := bench.Work(w)
	p := concpool.New().WithMaxGoroutines(runtime.GOMAXPROCS(0))
	return &taskServer{
		submit: func(it bench.Item, to chan<- reply) {
			p.Go(func() {
				out, err := work(context.Background(), it)
				to <- reply{out, err}
			})
		},
		close: func() error { p.Wait(); return nil },
	}
}

// ErrgroupService is one errgroup.Group with SetLimit(GOMAXPROCS) for the whole service; a request
// is a task, as in ConcService.
func ErrgroupService(w bench.Workload) bench.Server {
	work := bench.Work(w)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	return &taskServer{
		submit: func(it bench.Item, to chan<- reply) {
			g.Go(func() error {
				out, err := work(context.Background(), it)
				to <- reply{out, err}
				return nil
			})
		},
		close: g.Wait,
	}
}

// taskServer is a service whose requests go to a shared instance by submit, their results coming
// back on the connection's reply channel (made once, when it connects).
type taskServer struct {
	submit func(it bench.Item, to chan<- reply)
	close  func() error
}

func (s *taskServer) Connect(context.Context, int) (bench.Conn, error) {
	return &taskConn{s: s, reply: make(chan reply, 1)}, nil
}

func (s *taskServer) Close() error { return s.close() }

type taskConn struct {
	s     *taskServer
	reply chan reply
}

func (c *taskConn) Call(ctx context.Context, it bench.Item) (bench.Item, error) {
	c.s.submit(it, c.reply)
	select {
	case r := <-c.reply:
		return r.it, r.err
	case <-ctx.Done():
		return it, errors.Join(context.Cause(ctx), errors.New("peers: the connection is unusable"))
	}
}

func (c *taskConn) Close() error { return nil }

// PondService is one pond result pool with GOMAXPROCS workers for the whole service; a request is
// a task submitted with SubmitErr, whose future the client waits on: pond's own request/response.
func PondService(w bench.Workload) bench.Server {
	work := bench.Work(w)
	return pondServer{p: pond.NewResultPool[bench.Item](runtime.GOMAXPROCS(0)), work: work}
}

type pondServer struct {
	p    pond.ResultPool[bench.Item]
	work func(context.Context, bench.Item) (bench.Item, error)
}

func (s pondServer) Connect(context.Context, int) (bench.Conn, error) { return pondConn(s), nil }

func (s pondServer) Close() error {
	s.p.StopAndWait()
	if n := s.p.FailedTasks(); n > 0 {
		return fmt.Errorf("peers: pond: %d tasks failed", n)
	}
	return nil
}

type pondConn pondServer

func (c pondConn) Call(ctx context.Context, it bench.Item) (bench.Item, error) {
	return c.p.SubmitErr(func() (bench.Item, error) { return c.work(ctx, it) }).Wait()
}

func (pondConn) Close() error { return nil }

// OpenLoopServices returns the open-loop designs of bench.OpenLoopServices and the peers', in
// report order: every peer serves the connections from one shared instance, as in [Services].
func OpenLoopServices() []bench.Service {
	return append(bench.OpenLoopServices(),
		bench.Service{Name: "rill", Start: RillService},
		bench.Service{Name: "conc", Start: ConcService},
		bench.Service{Name: "pond", Start: PondService},
		bench.Service{Name: "errgroup", Start: ErrgroupService},
	)
}
