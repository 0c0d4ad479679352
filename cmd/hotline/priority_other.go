//go:build !linux

package main

import "errors"

// raisePriority is not available here.
func raisePriority(int) (int, error) {
	return 0, errors.New("not supported on this system")
}
