//go:build race

package group_test

func init() { raceEnabled = true }
