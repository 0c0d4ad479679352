//go:build linux

package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// raisePriority sets the scheduling priority (nice) of every thread of the
// process to nice. Linux keeps a nice value per thread and a new thread takes
// its creator's, so once every thread has it, every later one has it too;
// the second pass catches a thread the runtime started during the first.
func raisePriority(nice int) (threads int, err error) {
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return 0, fmt.Errorf("list threads: %w", err)
		}
		threads = 0
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil {
				if err == syscall.ESRCH {
					continue // the thread ended meanwhile
				}
				return threads, fmt.Errorf("thread %d: %w (needs root or CAP_SYS_NICE)", tid, err)
			}
			threads++
		}
	}
	return threads, nil
}
