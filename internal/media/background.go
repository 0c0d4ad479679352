package media

import (
	"context"
	"sync"
)

// Background is a playback that runs while its owner does other things:
// prompts once, in order, then one prompt repeated (a queue's announcement
// and hold music), or the prompts alone (an IVR menu that listens for keys
// meanwhile). On an endpoint with a pacer the pacer plays it with no
// goroutine of its own, so a call costs no extra stack for what it plays;
// on any other writer a goroutine plays it.
type Background struct {
	s    *stream    // the pacer's stream; nil when a goroutine plays
	done chan error // the outcome, once (buffered)

	cancel context.CancelFunc // the goroutine's playback
	wg     sync.WaitGroup
	once   sync.Once
}

// PlayBackground starts playing once, then loop until Stop (with a nil loop
// the playback ends after once). obs may be nil. A prompt that fails to
// write ends the playback.
func PlayBackground(w FrameWriter, once []*Prompt, loop *Prompt, obs Observer) *Background {
	if obs == nil {
		obs = nopObserver{}
	}
	b := &Background{done: make(chan error, 1)}
	if ep, ok := w.(*Endpoint); ok && ep.pacer != nil {
		s := &stream{w: w, then: once, loop: loop, obs: obs, result: b.done}
		if !s.advance() {
			b.done <- nil // nothing to play
			return b
		}
		if ep.pacer.add(s, ep.slot) {
			b.s = s
			return b
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		err := playAll(ctx, w, once, loop, obs)
		if ctx.Err() == nil {
			b.done <- err
		}
	}()
	return b
}

// playAll plays once, then loop until ctx ends.
func playAll(ctx context.Context, w FrameWriter, once []*Prompt, loop *Prompt, obs Observer) error {
	for _, pr := range once {
		if err := Play(ctx, w, pr, obs); err != nil {
			return err
		}
	}
	for loop != nil {
		if err := Play(ctx, w, loop, obs); err != nil {
			return err
		}
	}
	return nil
}

// Done receives the playback's outcome once: nil when every prompt has
// played (never, with a loop), or the error that ended it early. After
// Stop it may never receive.
func (b *Background) Done() <-chan error { return b.done }

// Stop ends the playback; once it returns nothing more is written. It is
// idempotent.
func (b *Background) Stop() {
	b.once.Do(func() {
		if b.s != nil {
			b.s.mu.Lock() // the pacer holds it while it writes
			b.s.stopped = true
			b.s.mu.Unlock()
		}
		if b.cancel != nil {
			b.cancel()
			b.wg.Wait()
		}
	})
}
