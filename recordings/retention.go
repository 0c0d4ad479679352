package recordings

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/store"
)

// Mode is what of a call a queue records.
type Mode string

// Recording modes of a queue (acd.QueueConfig.Record).
const (
	ModeBridged   Mode = "bridged"    // from the agent's answer to the end (the default)
	ModeFromQueue Mode = "from_queue" // from joining the queue, hold music and announcements included
	ModeWhole     Mode = "whole"      // from the answer of the call, IVR included
	ModeOff       Mode = "off"        // not recorded
)

// ParseMode reads a queue's record setting; "" is ModeBridged.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.TrimSpace(s)); m {
	case "":
		return ModeBridged, nil
	case ModeBridged, ModeFromQueue, ModeWhole, ModeOff:
		return m, nil
	}
	return "", fmt.Errorf("record %q: want bridged, from_queue, whole or off", s)
}

// ParseRetention reads a retention period: a number of days ("90d"), weeks
// ("2w") or a Go duration ("36h"); "" or "0" keeps recordings until deleted
// by hand.
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 || v > 100*366 {
				return 0, fmt.Errorf("retention %q: want a whole number of days (90d) or weeks (2w)", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("retention %q: want 90d, 2w, 36h or 0", s)
	}
	return d, nil
}

// sweepBatch is how many expired recordings one store query returns.
const sweepBatch = 100

// Sweep deletes the files of every recording whose retention has run out
// (not those on legal hold) and marks their rows deleted. It returns how
// many it deleted. A file already gone counts as deleted; a file that
// cannot be removed is logged and its row left as it is.
func (s *Service) Sweep(ctx context.Context, cat Catalog) (int, error) {
	n := 0
	skipped := map[string]bool{}
	for {
		rows, err := cat.ExpiredRecordings(ctx, s.now(), sweepBatch+len(skipped))
		if err != nil {
			return n, fmt.Errorf("recordings: sweep: %w", err)
		}
		progress := false
		for _, r := range rows {
			if skipped[r.ID] {
				continue
			}
			if err := s.delete(ctx, cat, r); err != nil {
				s.log.Error("expired recording not deleted", "recording_id", r.ID, "err", err)
				skipped[r.ID] = true
				continue
			}
			n++
			progress = true
		}
		if !progress || len(rows) < sweepBatch+len(skipped) {
			return n, nil
		}
	}
}

// delete removes one expired recording's file and marks its row.
func (s *Service) delete(ctx context.Context, cat Catalog, r store.Recording) error {
	if filepath.IsLocal(filepath.FromSlash(r.Path)) {
		err := os.Remove(filepath.Join(s.opt.Dir, filepath.FromSlash(r.Path)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	deadline := ""
	if r.RetainUntil != nil {
		deadline = r.RetainUntil.UTC().Format(time.RFC3339)
	}
	r.State, r.Reason, r.UpdatedAt = store.RecordingDeleted, "retention ran out at "+deadline, s.now()
	if err := cat.SaveRecording(ctx, r); err != nil {
		return err
	}
	s.log.Info("recording deleted: retention ran out", "recording_id", r.ID, "call_id", r.CallID, "retain_until", deadline)
	return nil
}

// RunSweeper sweeps every interval (DefaultSweepEvery when 0) until ctx ends. Its owner runs it in a
// goroutine and waits for it.
func (s *Service) RunSweeper(ctx context.Context, cat Catalog, every time.Duration) {
	if every <= 0 {
		every = DefaultSweepEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx, cat); err != nil {
			s.log.Warn("retention sweep", "err", err)
		} else if n > 0 {
			s.log.Info("retention sweep", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
