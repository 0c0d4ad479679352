package switchboard

import (
	"context"
	"sync"

	"github.com/hotline/hotline/internal/media"
)

// player plays to a caller in the background while the call goroutine waits
// for the queue: some prompts once (an announcement), then music in a loop.
// The call goroutine owns it; stop waits for the playing goroutine.
type player struct {
	w   media.FrameWriter
	obs media.Observer

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newPlayer(w media.FrameWriter, obs media.Observer) *player {
	return &player{w: w, obs: obs}
}

// start replaces whatever plays with once (in order), then loop repeated
// until stop. A nil loop ends in silence.
func (p *player) start(ctx context.Context, once []*media.Prompt, loop *media.Prompt) {
	p.stop()
	ctx, p.cancel = context.WithCancel(ctx)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for _, pr := range once {
			if media.Play(ctx, p.w, pr, p.obs) != nil {
				return
			}
		}
		for loop != nil && ctx.Err() == nil {
			if media.Play(ctx, p.w, loop, p.obs) != nil {
				return
			}
		}
	}()
}

// stop silences the player and waits until it no longer writes; idempotent.
func (p *player) stop() {
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	p.wg.Wait()
}
