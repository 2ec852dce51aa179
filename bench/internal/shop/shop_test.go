package shop_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/bench/internal/shop"
)

// raceEnabled is set by race_test.go, so that the subprocess is built as this test binary is.
var raceEnabled bool

// BenchmarkOrders is what a user writes to compare the designs on their own stages (with -short,
// on fewer orders).
func BenchmarkOrders(b *testing.B) {
	orders := shop.Cart(bench.Size(testing.Short(), 10_000, 1_000)) // your own items: []shop.Order
	stages := []func(context.Context, shop.Order) (shop.Order, error){shop.Price, shop.Discount, shop.Tax}
	bench.Compare(b, orders, stages, bench.CompareGroups(4))
}

// nondeterministic is the variable of the run of BenchmarkOrdersNondeterministic: only the test
// below sets it, in its subprocess.
const nondeterministic = "SHOP_COMPARE_NONDETERMINISTIC"

// BenchmarkOrdersNondeterministic compares the designs on a stage whose value depends on how
// often it has been called: every design's results differ from the direct calls', so every
// design's sub-benchmark fails. It runs only in the subprocess of
// TestCompareRunsEveryDesignAndCatchesANondeterministicStage.
func BenchmarkOrdersNondeterministic(b *testing.B) {
	if os.Getenv(nondeterministic) == "" {
		b.Skip("fails on purpose: run by TestCompareRunsEveryDesignAndCatchesANondeterministicStage")
	}
	var calls atomic.Int64
	stamp := func(_ context.Context, o shop.Order) (shop.Order, error) {
		o.Tags = append(o.Tags, fmt.Sprint("call ", calls.Add(1)))
		return o, nil
	}
	bench.Compare(b, shop.Cart(100), append(shop.Stages(), stamp))
}

// Compare, called from a user's package on its own struct type, runs every design, reports the
// per-item metrics of each, and fails every design's sub-benchmark, naming the design and the
// item, when a stage is not deterministic. The benchmarks run in a go test subprocess, since a
// failing benchmark fails its test binary.
func TestCompareRunsEveryDesignAndCatchesANondeterministicStage(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to run the benchmarks with: %v", err)
	}
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkOrders", "-benchtime", "1x", "-count", "1", "-short"}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goTool, append(args, ".")...)
	cmd.Env = append(os.Environ(), nondeterministic+"=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the nondeterministic benchmark must fail:\n%s", out)
	text := string(out)
	for _, d := range bench.CompareDesigns() {
		line := regexp.MustCompile(`(?m)^BenchmarkOrders/` + regexp.QuoteMeta(d) + `(-\d+)?\s+1\s+\d+ ns/op\s(.*)$`).FindStringSubmatch(text)
		if assert.NotNil(t, line, "design %s of BenchmarkOrders:\n%s", d, text) {
			for _, unit := range []string{"ns/item", "B/item", "allocs/item"} {
				assert.Regexp(t, `(^|\s)[0-9.]+ `+unit+`(\s|$)`, line[2], "design %s", d)
			}
		}
		assert.Contains(t, text, "--- FAIL: BenchmarkOrdersNondeterministic/"+d+"\n", "design %s", d)
		assert.Contains(t, text, "check before timing: bench.Compare: "+d+": item 0: got {ID:0 SKU:tea", "design %s", d)
	}
	assert.NotContains(t, text, "--- FAIL: BenchmarkOrders/", "the deterministic stages pass")
}

// The designs compute every cart as direct calls do, whatever its size and the groups.
func TestEveryDesignPricesEveryCart(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cart := shop.Cart(rapid.IntRange(1, 400).Draw(t, "orders"))
		out, err := bench.CheckDesigns(cart, shop.Stages(), bench.CompareGroups(rapid.IntRange(1, 8).Draw(t, "groups")))
		require.NoError(t, err)
		for i, o := range out {
			want := o.Qty * o.Cents
			if o.Qty >= 10 {
				want = want * 9 / 10
			}
			assert.Equal(t, want+want/5, o.Total, "order %d", i)
		}
	})
}
