package pool

import "time"

// LookEvery sets how often the consumer looks at batches in progress (lookEvery by default), so
// that the stress tests take results early all the time.
func LookEvery(d time.Duration) Option {
	return optionFunc(func(o *options) { o.look = d })
}
