package media

import (
	"context"
	"errors"
	"time"
)

// FrameWriter takes 20 ms frames of 8 kHz PCM16. Implementations must not
// change pcm, nor keep it after WriteFrame returns: callers reuse the buffer,
// and the pacer passes the samples of prompts that every call shares.
type FrameWriter interface {
	WriteFrame(pcm []int16) error
}

// FrameWriterFunc adapts a function to a FrameWriter.
type FrameWriterFunc func(pcm []int16) error

// WriteFrame calls f(pcm).
func (f FrameWriterFunc) WriteFrame(pcm []int16) error { return f(pcm) }

// Play writes p to w one 20 ms frame at a time and returns nil when it has
// been played, ctx.Err() when cancelled, or the writer's error. The last
// frame is padded with silence. Each gap between consecutive sends is
// reported to obs.SendInterval; obs may be nil.
//
// When w is an *Endpoint opened with a Pacer (PortsConfig.Pacer), the node's
// shared pacer sends the frames (see Pacer.Play). Otherwise Play paces itself
// with its own ticker: the first frame goes out at once, frame k is due k×20 ms
// later (frames missed by a late wake-up are sent at once, never skipped), and
// Play returns one frame time after the last frame, so prompts played back
// to back stay paced.
func Play(ctx context.Context, w FrameWriter, p *Prompt, obs Observer) error {
	if ep, ok := w.(*Endpoint); ok && ep.pacer != nil {
		return ep.pacer.Play(ctx, w, p, obs)
	}
	if p == nil {
		return errors.New("media: play: nil prompt")
	}
	if obs == nil {
		obs = nopObserver{}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return playTicker(ctx, w, p, obs, 0)
}

// playTicker plays p from sample off with a ticker of its own.
func playTicker(ctx context.Context, w FrameWriter, p *Prompt, obs Observer, off int) error {
	var frame [FrameSamples]int16
	start := time.Now() // before the ticker, so tick k comes ≥ k×20 ms after start
	ticker := time.NewTicker(FrameDuration)
	defer ticker.Stop()
	total := (len(p.Samples) - off + FrameSamples - 1) / FrameSamples
	var last time.Time
	for sent := 0; ; {
		// Frames due by now: one at start, then one per elapsed 20 ms.
		due := min(int(time.Since(start)/FrameDuration)+1, total)
		if due-sent > maxCatchUp {
			skip := due - sent - maxCatchUp
			off += skip * FrameSamples
			sent += skip
		}
		for ; sent < due; sent++ {
			n := copy(frame[:], p.Samples[off:])
			clear(frame[n:])
			off += FrameSamples
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
		if sent == total && time.Since(start) >= time.Duration(total)*FrameDuration {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}
