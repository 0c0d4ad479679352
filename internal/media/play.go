package media

import (
	"context"
	"errors"
	"time"
)

// FrameWriter takes 20 ms frames of 8 kHz PCM16. Implementations must not
// keep pcm after WriteFrame returns: callers reuse the buffer.
type FrameWriter interface {
	WriteFrame(pcm []int16) error
}

// FrameWriterFunc adapts a function to a FrameWriter.
type FrameWriterFunc func(pcm []int16) error

// WriteFrame calls f(pcm).
func (f FrameWriterFunc) WriteFrame(pcm []int16) error { return f(pcm) }

// Play writes p to w one 20 ms frame at a time, paced by a time.Ticker. The
// first frame goes out at once; the last one is padded with silence. It
// returns nil one frame time after the last frame was sent (so prompts played
// back to back stay paced), ctx.Err() when cancelled, or the
// writer's error. Each gap between consecutive sends is reported to
// obs.SendInterval; obs may be nil.
func Play(ctx context.Context, w FrameWriter, p *Prompt, obs Observer) error {
	if p == nil {
		return errors.New("media: play: nil prompt")
	}
	if obs == nil {
		obs = nopObserver{}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var frame [FrameSamples]int16
	ticker := time.NewTicker(FrameDuration)
	defer ticker.Stop()
	var last time.Time
	for off := 0; off < len(p.Samples); off += FrameSamples {
		if off > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-ticker.C:
			}
		}
		n := copy(frame[:], p.Samples[off:])
		clear(frame[n:])
		now := time.Now()
		if !last.IsZero() {
			obs.SendInterval(now.Sub(last))
		}
		last = now
		if err := w.WriteFrame(frame[:]); err != nil {
			return err
		}
	}
	// Hold the last frame's 20 ms so that back-to-back prompts stay paced.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-ticker.C:
	}
	return nil
}
