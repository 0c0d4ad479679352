package switchboard

import (
	"context"
	"fmt"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/sip"
)

// channel is the call as the IVR sees it (ivr.Channel): prompts out, digits
// in. The call hands it every key press (sip.Call.OnDigit, de-duplicated
// across sources) on the goroutine that received it; no goroutine of its own
// waits for them.
type channel struct {
	call    *sip.Call
	assets  *Assets
	obs     media.Observer
	digits  chan byte
	onDigit func(media.Digit)
}

func newChannel(c *sip.Call, a *Assets, obs media.Observer, onDigit func(media.Digit)) *channel {
	ch := &channel{
		call: c, assets: a, obs: obs, onDigit: onDigit,
		digits: make(chan byte, 64),
	}
	c.OnDigit(ch.take)
	return ch
}

// Play plays the prompts in order in the language, falling back to the default
// language for a prompt missing in it, and returns once they have played.
func (ch *channel) Play(ctx context.Context, lang string, names ...string) error {
	prompts, err := ch.prompts(lang, names)
	if err != nil {
		return err
	}
	for _, p := range prompts {
		if err := media.Play(ctx, ch.call.Media(), p, ch.obs); err != nil {
			return err
		}
	}
	return nil
}

// Start plays the prompts like Play, in the background (ivr.Channel): the
// node's pacer plays them while the IVR waits for keys.
func (ch *channel) Start(lang string, names ...string) (ivr.Playback, error) {
	prompts, err := ch.prompts(lang, names)
	if err != nil {
		return nil, err
	}
	return media.PlayBackground(ch.call.Media(), prompts, nil, ch.obs), nil
}

// prompts finds the named prompts in lang, or the default language.
func (ch *channel) prompts(lang string, names []string) ([]*media.Prompt, error) {
	out := make([]*media.Prompt, 0, len(names))
	for _, name := range names {
		p := ch.assets.Prompts.Get(lang, name)
		if p == nil {
			p = ch.assets.Prompts.Get(ch.assets.DefaultLanguage, name)
		}
		if p == nil {
			return nil, fmt.Errorf("prompt %q is missing in %q", name, lang)
		}
		out = append(out, p)
	}
	return out, nil
}

// Digits delivers the caller's key presses, de-duplicated across sources.
func (ch *channel) Digits() <-chan byte { return ch.digits }

// take is the call's digit handler: it records the press and queues it
// for the IVR without waiting.
func (ch *channel) take(d media.Digit) {
	ch.onDigit(d)
	select {
	case ch.digits <- d.Key:
	default: // 64 keys typed ahead and never read: the caller is mashing keys; drop
	}
}

// close stops taking the call's digits.
func (ch *channel) close() { ch.call.OnDigit(nil) }
