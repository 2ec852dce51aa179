package group_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stagecoach-go/stagecoach/group"
)

// Two groups share one router: each gets back exactly its own results. Each group's items are
// submitted from one goroutine while another reads its results: the window counts results not
// yet read, so a goroutine that submitted more than a window before reading would block.
func Example() {
	shout := func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }
	r := group.New[string](shout, group.Workers(2))
	defer r.Shutdown(context.Background())

	words := map[string][]string{"alice": {"hello", "bob"}, "bob": {"hi", "alice", "!"}}
	for _, key := range []string{"alice", "bob"} {
		g, err := r.Open(context.Background(), key, group.Ordered(), group.Window(2))
		if err != nil {
			panic(err)
		}
		go func() {
			defer g.Close()
			for _, w := range words[key] {
				if g.Submit(context.Background(), w) != nil {
					return
				}
			}
		}()
		var got []string
		for v, err := range g.Results() {
			if err != nil {
				panic(err)
			}
			got = append(got, v)
		}
		fmt.Println(g.Key(), got)
	}
	// Output:
	// alice [HELLO BOB]
	// bob [HI ALICE !]
}

// A submitter that receives its items in batches (a bulk request, a page read from a queue)
// hands each batch over with SubmitAll, which takes the group's lock once a run rather than once
// an item; it blocks while the window is full, as Submit does.
func ExampleMapGroup_SubmitAll() {
	square := func(_ context.Context, n int) (int, error) { return n * n, nil }
	r := group.New[string](square, group.Workers(2))
	defer r.Shutdown(context.Background())

	g, err := r.Open(context.Background(), "batches", group.Ordered(), group.Window(4))
	if err != nil {
		panic(err)
	}
	go func() {
		defer g.Close()
		for _, batch := range [][]int{{1, 2, 3}, {4, 5, 6, 7, 8}} {
			if _, err := g.SubmitAll(context.Background(), batch); err != nil {
				return // the items before the n it returned were accepted, and get results
			}
		}
	}()
	var got []int
	for v, err := range g.Results() {
		if err != nil {
			panic(err)
		}
		got = append(got, v)
	}
	fmt.Println(got)
	// Output:
	// [1 4 9 16 25 36 49 64]
}

// A router whose work func turns a request into a reply of another type: a failed request's
// result is the zero reply, with an error that carries the group's key and the request as it was
// submitted.
func ExampleMap() {
	type request struct{ user, item string }
	type reply struct{ price int }
	prices := map[string]int{"tea": 3, "cake": 5}
	price := func(_ context.Context, q request) (reply, error) {
		p, ok := prices[q.item]
		if !ok {
			return reply{}, errors.New("no such item")
		}
		return reply{p}, nil
	}
	r := group.Map[string](price, group.Workers(2))
	defer r.Shutdown(context.Background())

	g, err := r.Open(context.Background(), "alice", group.Ordered())
	if err != nil {
		panic(err)
	}
	go func() {
		defer g.Close()
		for _, item := range []string{"tea", "soup", "cake"} {
			if g.Submit(context.Background(), request{"alice", item}) != nil {
				return
			}
		}
	}()
	for rep, err := range g.Results() {
		var ie *group.ItemError[request]
		if errors.As(err, &ie) {
			fmt.Printf("%v (the request for %s)\n", err, ie.Item.item)
			continue
		}
		fmt.Println(rep.price)
	}
	// Output:
	// 3
	// group alice: no such item (the request for soup)
	// 5
}
