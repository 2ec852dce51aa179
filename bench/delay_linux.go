package bench

import (
	"syscall"
	"time"
)

// preciseSleeps sets the calling thread's timer slack to 1 us (prctl PR_SET_TIMERSLACK), so its
// sleeps end within a few microseconds of their deadline instead of the default 50 us.
func preciseSleeps() {
	const prSetTimerSlack = 29
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1000, 0)
}

// nap blocks the calling thread in nanosleep for about dt: the thread, not a Go timer, so the
// wake-up does not wait for the network poller's millisecond timeout. A signal may end it early.
func nap(dt time.Duration) {
	ts := syscall.NsecToTimespec(int64(dt))
	_ = syscall.Nanosleep(&ts, nil)
}
