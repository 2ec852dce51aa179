package shop_test

import (
	"context"
	"fmt"

	"github.com/stagecoach-go/stagecoach/bench/internal/shop"
)

func ExampleStages() {
	o := shop.Order{ID: 1, SKU: "tea", Qty: 12, Cents: 100}
	for _, stage := range shop.Stages() {
		o, _ = stage(context.Background(), o)
	}
	fmt.Println(o.Total, o.Tags)
	// Output: 1296 [bulk taxed]
}
