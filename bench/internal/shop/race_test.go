//go:build race

package shop_test

func init() { raceEnabled = true }
