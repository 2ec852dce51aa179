package group_test

import (
	"context"
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
