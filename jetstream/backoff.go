package jetstream

import (
	"fmt"
	"time"
)

// Exponential returns a backoff policy for [Backoff]: the delay before delivery n+1 of a message
// whose delivery n failed is min·2^(n-1), capped at max. So the first retry waits min, the next
// 2·min, and so on until max. The policy is a pure function of n; n below 1 counts as 1.
// Exponential panics if min is not positive or max is below min.
func Exponential(min, max time.Duration) func(deliveries int) time.Duration {
	if min <= 0 {
		panic(fmt.Sprintf("jetstream: Exponential min must be positive, got %v", min))
	}
	if max < min {
		panic(fmt.Sprintf("jetstream: Exponential max must be at least min %v, got %v", min, max))
	}
	return func(n int) time.Duration {
		d := min
		for i := 1; i < n && d < max; i++ {
			d *= 2
		}
		return clampDuration(d, min, max)
	}
}

// backoffList is the policy a consumer's BackOff list describes: delay n-1 of the list for
// delivery n, the last one for every later delivery.
func backoffList(list []time.Duration) func(deliveries int) time.Duration {
	return func(n int) time.Duration {
		return list[clampInt(n-1, 0, len(list)-1)]
	}
}

func clampDuration(d, lo, hi time.Duration) time.Duration {
	// d can have overflowed to a negative value when doubled past the int64 range.
	if d < lo {
		if d < 0 {
			return hi
		}
		return lo
	}
	return min(d, hi)
}

func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }
