package switchboard

import (
	"github.com/hotline/hotline/internal/media"
)

// player plays to a caller in the background while the call goroutine waits
// for the queue: some prompts once (an announcement), then music in a loop.
// The call goroutine owns it; the node's pacer does the playing
// (media.Background), so no goroutine waits on the music.
type player struct {
	w   media.FrameWriter
	obs media.Observer
	bg  *media.Background // what plays now; nil: silence
}

func newPlayer(w media.FrameWriter, obs media.Observer) *player {
	return &player{w: w, obs: obs}
}

// start replaces whatever plays with once (in order), then loop repeated
// until stop. A nil loop ends in silence.
func (p *player) start(once []*media.Prompt, loop *media.Prompt) {
	p.stop()
	p.bg = media.PlayBackground(p.w, once, loop, p.obs)
}

// stop silences the player; once it returns nothing more is written.
// Idempotent.
func (p *player) stop() {
	if p.bg != nil {
		p.bg.Stop()
		p.bg = nil
	}
}
