//go:build !linux

package media

import "log/slog"

// newThreadClock: real-time pacing is Linux only; elsewhere a timer paces.
func newThreadClock(done <-chan struct{}, log *slog.Logger) pacerClock {
	log.Warn("media pacer: real-time pacing is only available on Linux")
	return newTimerClock(done)
}
