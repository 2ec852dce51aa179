// Package shop is a user's package as the bench package sees it: its own item type (an Order)
// and its own stages, compared on every design with bench.Compare in its tests, from outside
// package bench. Its tests are the proof that Compare works on a type it has never seen, and that
// it fails, naming the design and the item, when a stage is not deterministic.
package shop
