package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// order is the example's item: a customer's order of some amount.
type order struct {
	customer string
	amount   int
}

// decodeOrder keys orders by customer, the last token of "orders.<customer>".
func decodeOrder(m natsjs.Msg) (string, order, error) {
	customer := jetstream.Token(m.Subject(), -1)
	amount, err := strconv.Atoi(string(m.Data()))
	if err != nil {
		return "", order{}, fmt.Errorf("amount %q: %w", m.Data(), err)
	}
	return customer, order{customer, amount}, nil
}

// Example bills orders from a stream: each customer's orders one at a time, in order; an order
// that cannot be decoded is dead-lettered. Every process of the service runs this same code
// against the same durable consumer.
func Example() {
	js, stop := exampleServer() // an embedded server for the example; a service dials its cluster
	defer stop()
	ctx := context.Background()
	_, _ = js.CreateStream(ctx, natsjs.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	_, _ = js.CreateStream(ctx, natsjs.StreamConfig{Name: "DEAD", Subjects: []string{"deadletter.>"}})
	_, _ = js.CreateOrUpdateConsumer(ctx, "ORDERS", natsjs.ConsumerConfig{
		Durable: "billing", AckPolicy: natsjs.AckExplicitPolicy, MaxDeliver: 5,
	})
	for _, o := range [][2]string{{"alice", "3"}, {"bob", "5"}, {"alice", "4"}, {"bob", "five"}} {
		_, _ = js.Publish(ctx, "orders."+o[0], []byte(o[1]))
	}
	dead, _ := js.Conn().SubscribeSync("deadletter.orders")

	var mu sync.Mutex
	totals := map[string]int{}
	billed := make(chan struct{}, 3)
	bill := func(_ context.Context, o order) (order, error) {
		mu.Lock()
		totals[o.customer] += o.amount
		mu.Unlock()
		billed <- struct{}{}
		return o, nil
	}
	r := group.New[string](bill)
	defer r.Shutdown(ctx)
	f, err := jetstream.New(ctx, js, "ORDERS", "billing", r, decodeOrder, jetstream.DeadLetter("deadletter.orders"))
	if err != nil {
		fmt.Println(err)
		return
	}
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- f.Run(runCtx) }()
	for range 3 {
		<-billed
	}
	m, _ := dead.NextMsg(time.Minute)
	cancel() // graceful: what is held is finished and acknowledged before Run returns
	fmt.Println("run:", <-ran)

	fmt.Println("alice", totals["alice"], "bob", totals["bob"])
	st := f.Stats()
	fmt.Println("processed", st.Processed, "dead-lettered", st.DeadLettered)
	fmt.Println(m.Header.Get(jetstream.HeaderReason)+":", m.Header.Get(jetstream.HeaderError))
	// Output:
	// run: <nil>
	// alice 7 bob 5
	// processed 3 dead-lettered 1
	// decode: amount "five": strconv.Atoi: parsing "five": invalid syntax
}

// exampleServer starts an embedded server with JetStream on and connects to it.
func exampleServer() (natsjs.JetStream, func()) {
	dir, err := os.MkdirTemp("", "jetstream-example")
	if err != nil {
		panic(err)
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		panic("server not ready")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		panic(err)
	}
	js, err := natsjs.New(nc)
	if err != nil {
		panic(err)
	}
	return js, func() {
		nc.Close()
		s.Shutdown()
		s.WaitForShutdown()
		_ = os.RemoveAll(dir)
	}
}

func ExamplePermanent() {
	err := fmt.Errorf("billing order 42: %w", jetstream.Permanent(errors.New("unknown customer")))
	fmt.Println(jetstream.IsPermanent(err))
	fmt.Println(jetstream.IsPermanent(errors.New("timeout")))
	fmt.Println(err)
	// Output:
	// true
	// false
	// billing order 42: permanent: unknown customer
}

func ExampleExponential() {
	policy := jetstream.Exponential(time.Second, 10*time.Second)
	for deliveries := 1; deliveries <= 5; deliveries++ {
		fmt.Print(policy(deliveries), " ")
	}
	fmt.Println()
	// Output: 1s 2s 4s 8s 10s
}

func ExampleToken() {
	fmt.Println(jetstream.Token("orders.eu.alice", -1))
	fmt.Println(jetstream.Token("orders.eu.alice", 1))
	// Output:
	// alice
	// eu
}
