package shop

import (
	"context"
	"errors"
	"slices"
)

// Order is one line of a shopping cart on its way to an invoice.
type Order struct {
	ID    int
	SKU   string
	Qty   int
	Cents int // the unit price
	Total int // in cents, once priced
	Tags  []string
}

// ErrNoQuantity is the error of an order for nothing.
var ErrNoQuantity = errors.New("shop: an order needs a quantity of at least 1")

// Price sets the total from the quantity and the unit price.
func Price(_ context.Context, o Order) (Order, error) {
	if o.Qty < 1 {
		return o, ErrNoQuantity
	}
	o.Total = o.Qty * o.Cents
	return o, nil
}

// Discount takes 10% off orders of 10 or more, and tags them.
func Discount(_ context.Context, o Order) (Order, error) {
	if o.Qty >= 10 {
		o.Total = o.Total * 9 / 10
		o.Tags = append(slices.Clip(o.Tags), "bulk")
	}
	return o, nil
}

// Tax adds 20% and tags the order.
func Tax(_ context.Context, o Order) (Order, error) {
	o.Total += o.Total / 5
	o.Tags = append(slices.Clip(o.Tags), "taxed")
	return o, nil
}

// Stages returns the order's stages in order.
func Stages() []func(context.Context, Order) (Order, error) {
	return []func(context.Context, Order) (Order, error){Price, Discount, Tax}
}

// Cart returns n orders of a few SKUs and quantities.
func Cart(n int) []Order {
	skus := []string{"tea", "cups", "kettle", "tray"}
	orders := make([]Order, n)
	for i := range orders {
		orders[i] = Order{ID: i, SKU: skus[i%len(skus)], Qty: i%15 + 1, Cents: 100 + 25*(i%7)}
	}
	return orders
}
