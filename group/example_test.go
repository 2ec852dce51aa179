package group_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/stagecoach-go/stagecoach/group"
)

// Two groups share one router: each gets back exactly its own results.
func Example() {
	shout := func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }
	r := group.New[string](shout, group.Workers(2))
	defer r.Wait()
	defer r.Close()

	alice, _ := r.Open(context.Background(), "alice", group.Ordered())
	bob, _ := r.Open(context.Background(), "bob", group.Ordered())
	for _, w := range []string{"hello", "bob"} {
		_ = alice.Submit(context.Background(), w)
	}
	for _, w := range []string{"hi", "alice", "!"} {
		_ = bob.Submit(context.Background(), w)
	}
	alice.Close()
	bob.Close()
	for _, g := range []*group.Group[string, string]{alice, bob} {
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
