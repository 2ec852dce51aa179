package service

import "context"

// SetHook makes f run first in the enrich stage of every event, for the tests that hold or fail
// an event on its way.
func SetHook(c *Config, f func(context.Context, *Event) error) { c.hook = f }
