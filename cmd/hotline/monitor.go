package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/switchboard"
)

// callMonitor is the API's CallMonitor over the desk: a supervisor on a
// live call (listen, whisper, barge) through their softphone.
type callMonitor struct{ desk *switchboard.Desk }

func (c callMonitor) Monitor(ctx context.Context, callID, supervisor, mode string) error {
	err := c.desk.Monitor(ctx, callID, supervisor, mode)
	switch {
	case errors.Is(err, switchboard.ErrNoCall):
		return fmt.Errorf("%w: %w", httpapi.ErrCallNotLive, err)
	case errors.Is(err, switchboard.ErrNotBridged):
		return fmt.Errorf("%w: %w", httpapi.ErrCallNotBridged, err)
	case errors.Is(err, switchboard.ErrNoSoftphone):
		return fmt.Errorf("%w: %w", httpapi.ErrNoSoftphone, err)
	case errors.Is(err, switchboard.ErrMonitorBusy):
		return fmt.Errorf("%w: %w", httpapi.ErrMonitorBusy, err)
	}
	return err
}
