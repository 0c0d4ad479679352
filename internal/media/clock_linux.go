//go:build linux

package media

import (
	"log/slog"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// threadClock is a Realtime pacer's clock: the pacer goroutine keeps its own
// thread, runs it at SCHED_FIFO priority when allowed, and waits in
// nanosleep, so a busy machine wakes it on time; a Go timer would need some
// other, ordinary-priority thread to notice the deadline first.
type threadClock struct {
	done <-chan struct{}
}

func newThreadClock(done <-chan struct{}, log *slog.Logger) *threadClock {
	// Never unlocked: the thread's priority was changed, so the runtime must
	// end it with the goroutine instead of reusing it.
	runtime.LockOSThread()
	param := struct{ priority int32 }{pacerPriority}
	const schedFIFO = 1
	if _, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedFIFO, uintptr(unsafe.Pointer(&param))); errno != 0 {
		log.Warn("media pacer: no real-time priority (needs CAP_SYS_NICE or LimitRTPRIO); frames may be late on a busy machine",
			"err", errno.Error())
	} else {
		log.Info("media pacer: real-time priority", "policy", "SCHED_FIFO", "priority", pacerPriority)
	}
	return &threadClock{done: done}
}

func (c *threadClock) wait(d time.Duration) bool {
	if d > 0 {
		ts := syscall.NsecToTimespec(int64(d))
		for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
		}
	}
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

func (c *threadClock) stop() {}
