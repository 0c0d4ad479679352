//go:build linux

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// threadNices returns the nice value of every thread of this process.
func threadNices(t *testing.T) map[string]string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	out := map[string]string{}
	for _, task := range tasks {
		stat, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
		if err != nil {
			continue // the thread ended
		}
		_, rest, _ := strings.Cut(string(stat), ") ")
		fields := strings.Fields(rest)
		require.Greater(t, len(fields), 16)
		out[task.Name()] = fields[16] // field 19 of proc(5): nice
	}
	return out
}

// Every thread gets the priority, or the error says what right is missing.
func TestRaisePriorityReachesEveryThread(t *testing.T) {
	threads, err := raisePriority(-3)
	if err != nil {
		require.Contains(t, err.Error(), "CAP_SYS_NICE")
		require.NotZero(t, os.Geteuid(), "root may raise priorities: %v", err)
		return
	}
	t.Cleanup(func() { _, _ = raisePriority(0) })
	require.Positive(t, threads)
	for tid, nice := range threadNices(t) {
		require.Equal(t, "-3", nice, "thread %s", tid)
	}
}
