package jetstream

import (
	"fmt"
	"time"

	"github.com/stagecoach-go/stagecoach/group"
)

// Defaults of the options.
const (
	DefaultMaxInFlight       = 512
	DefaultWindow            = 64
	DefaultIdleGroups        = 128
	DefaultDisconnectTimeout = time.Minute
	DefaultDrainTimeout      = 30 * time.Second
)

// Limits of the options: [Window] and [MaxInFlight] panic above them.
const (
	// MaxWindow is the largest [Window]: the feed opens each key's group with a window twice as
	// large, which must not exceed [group.MaxWindow].
	MaxWindow = group.MaxWindow / windowFactor
	// MaxInFlightLimit is the largest [MaxInFlight] (and [KeyShare]): the feed and the client each
	// allocate a buffer of that many entries when the run starts.
	MaxInFlightLimit = 1 << 20
)

// An Option configures a [Feed] at [New].
type Option interface{ apply(*options) }

type options struct {
	deadLetter  string
	backoff     func(int) time.Duration
	maxInFlight int
	window      int
	keyShare    int // 0: a quarter of maxInFlight
	idleGroups  int
	progress    time.Duration
	disconnect  time.Duration
	drain       time.Duration
	onError     func(error)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

func newOptions(opts []Option) options {
	o := options{
		maxInFlight: DefaultMaxInFlight,
		window:      DefaultWindow,
		idleGroups:  DefaultIdleGroups,
		disconnect:  DefaultDisconnectTimeout,
		drain:       DefaultDrainTimeout,
	}
	for _, opt := range opts {
		opt.apply(&o)
	}
	o.window = min(o.window, o.maxInFlight)
	if o.keyShare == 0 {
		o.keyShare = max(1, o.maxInFlight/4)
	}
	o.keyShare = min(o.keyShare, o.maxInFlight)
	return o
}

// DeadLetter sets the subject that messages are published to before they are terminated
// (default "deadletter.<stream>.<consumer>"). A stream must capture it: [New] checks that one does.
// DeadLetter panics if subject is empty.
func DeadLetter(subject string) Option {
	if subject == "" {
		panic("jetstream: DeadLetter subject must not be empty")
	}
	return optionFunc(func(o *options) { o.deadLetter = subject })
}

// Backoff sets the delay before a failed message is delivered again, as a function of the
// deliveries it has had (1 after its first failure). The default is the consumer's BackOff list
// if it has one, else Exponential(time.Second, time.Minute). A panic in policy is reported to the
// [OnError] func, and the message waits the default policy's delay instead. Backoff panics if
// policy is nil.
func Backoff(policy func(deliveries int) time.Duration) Option {
	if policy == nil {
		panic("jetstream: Backoff policy must not be nil")
	}
	return optionFunc(func(o *options) { o.backoff = policy })
}

// MaxInFlight bounds the messages the feed holds: received from the consumer and not yet
// acknowledged, negatively acknowledged or terminated (default [DefaultMaxInFlight]). The feed
// asks the server for at most n more ahead of them, so one process has at most about 2·n
// unacknowledged messages; see the package documentation for sizing MaxAckPending.
// MaxInFlight panics if n is below 1 or above [MaxInFlightLimit].
func MaxInFlight(n int) Option {
	if n < 1 || n > MaxInFlightLimit {
		panic(fmt.Sprintf("jetstream: MaxInFlight must be from 1 to %d, got %d", MaxInFlightLimit, n))
	}
	return optionFunc(func(o *options) { o.maxInFlight = n })
}

// Window sets the window of each key's group (default [DefaultWindow], at most MaxInFlight):
// how many of one key's messages are handed to the router at once. A key's messages beyond it
// wait in the feed, in order, up to the key's [KeyShare]. Window panics if n is below 1 or above
// [MaxWindow].
func Window(n int) Option {
	if n < 1 || n > MaxWindow {
		panic(fmt.Sprintf("jetstream: Window must be from 1 to %d, got %d", MaxWindow, n))
	}
	return optionFunc(func(o *options) { o.window = n })
}

// KeyShare bounds what one key can hold of the in-flight slots (default a quarter of
// MaxInFlight, at least 1), so that keys far behind cannot take every slot and hold up the
// others: a key that holds n messages or more takes another slot only if n slots stay free
// after it. Its message is deferred instead: negatively acknowledged with the [Backoff] delay,
// like a retry, and counted in [Stats].Deferred. So the last n slots are kept for the keys below
// their share, however many keys are behind. A deferred message is delivered again later
// (perhaps after the key's later messages), and that delivery counts towards the consumer's
// MaxDeliver; a message on its last delivery is never deferred. n at least MaxInFlight turns
// deferring off. KeyShare panics if n is below 1 or above [MaxInFlightLimit].
func KeyShare(n int) Option {
	if n < 1 || n > MaxInFlightLimit {
		panic(fmt.Sprintf("jetstream: KeyShare must be from 1 to %d, got %d", MaxInFlightLimit, n))
	}
	return optionFunc(func(o *options) { o.keyShare = n })
}

// IdleGroups bounds the groups the feed keeps open with no message in them (default
// [DefaultIdleGroups]); beyond it the least recently used is closed. 0 closes every group as soon
// as it empties. IdleGroups panics if n is negative.
func IdleGroups(n int) Option {
	if n < 0 {
		panic(fmt.Sprintf("jetstream: IdleGroups must not be negative, got %d", n))
	}
	return optionFunc(func(o *options) { o.idleGroups = n })
}

// ProgressEvery sets how often the feed tells the server that a message it holds is still being
// worked on (InProgress), so that AckWait does not expire under a long item or a long queue: each
// held message is reported d to 1.5·d after it arrived or was last reported.
// The default is a third of the shortest of the consumer's AckWait and BackOff durations.
// ProgressEvery panics if d is not positive.
func ProgressEvery(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("jetstream: ProgressEvery must be positive, got %v", d))
	}
	return optionFunc(func(o *options) { o.progress = d })
}

// DisconnectTimeout sets how long the feed waits for a lost connection to come back before
// [Feed.Run] gives up with an error wrapping [ErrDisconnected] (default
// [DefaultDisconnectTimeout]). DisconnectTimeout panics if d is not positive.
func DisconnectTimeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("jetstream: DisconnectTimeout must be positive, got %v", d))
	}
	return optionFunc(func(o *options) { o.disconnect = d })
}

// DrainTimeout bounds a graceful shutdown (default [DefaultDrainTimeout]): once Run's context
// ends, the feed finishes and acknowledges what it holds for at most d; then it cancels the
// work's context, and the items not finished are negatively acknowledged for immediate
// redelivery. DrainTimeout panics if d is not positive.
func DrainTimeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("jetstream: DrainTimeout must be positive, got %v", d))
	}
	return optionFunc(func(o *options) { o.drain = d })
}

// OnError sets a func that is told of every run-time error the feed survives: a failed
// acknowledgement or dead-letter publication, a consumer error such as missed heartbeats. It is
// called from the feed's goroutines, possibly from several at once, and must not block for
// long. A panic in it ends [Feed.Run] with that panic as its error. OnError panics if f is nil.
func OnError(f func(error)) Option {
	if f == nil {
		panic("jetstream: OnError func must not be nil")
	}
	return optionFunc(func(o *options) { o.onError = f })
}
