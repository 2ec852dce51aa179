package loadgen

import (
	"syscall"
	"time"
)

// preciseSleeps sets the calling thread's timer slack to 1 us (prctl PR_SET_TIMERSLACK, 29):
// its sleeps then end within microseconds of their deadline, not the default 50 us.
func preciseSleeps() { _, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, 29, 1000, 0) }

// nap blocks the calling thread, not a Go timer, in nanosleep for about dt. A signal may end it
// early: the pacer then looks at the clock and sleeps again.
func nap(dt time.Duration) {
	ts := syscall.NsecToTimespec(int64(dt))
	_ = syscall.Nanosleep(&ts, nil)
}
