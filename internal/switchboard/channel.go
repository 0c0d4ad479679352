package switchboard

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/sip"
)

// crossSourceWindow is how close in time the same key from two sources (a
// phone that sends both RFC 4733 and SIP INFO) counts as one press.
const crossSourceWindow = 200 * time.Millisecond

// channel is the call as the IVR sees it (ivr.Channel): prompts out, digits
// in. It merges the three digit sources into one ordered stream with a reader
// goroutine that close waits for.
type channel struct {
	call    *sip.Call
	assets  *Assets
	obs     media.Observer
	digits  chan byte
	onDigit func(media.Digit)

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func newChannel(c *sip.Call, a *Assets, obs media.Observer, onDigit func(media.Digit)) *channel {
	ch := &channel{
		call: c, assets: a, obs: obs, onDigit: onDigit,
		digits: make(chan byte, 64),
		stop:   make(chan struct{}),
	}
	ch.wg.Add(1)
	go ch.readDigits()
	return ch
}

// Play plays the prompts in order in the language, falling back to the default
// language for a prompt missing in it.
func (ch *channel) Play(ctx context.Context, lang string, names ...string) error {
	for _, name := range names {
		p := ch.assets.Prompts.Get(lang, name)
		if p == nil {
			p = ch.assets.Prompts.Get(ch.assets.DefaultLanguage, name)
		}
		if p == nil {
			return fmt.Errorf("prompt %q is missing in %q", name, lang)
		}
		if err := media.Play(ctx, ch.call.Media(), p, ch.obs); err != nil {
			return err
		}
	}
	return nil
}

// Digits delivers the caller's key presses, de-duplicated across sources.
func (ch *channel) Digits() <-chan byte { return ch.digits }

func (ch *channel) readDigits() {
	defer ch.wg.Done()
	var last media.Digit
	rtp, info := ch.call.Media().Digits(), ch.call.Digits()
	for rtp != nil || info != nil {
		var d media.Digit
		var ok bool
		select {
		case d, ok = <-rtp:
			if !ok {
				rtp = nil // the endpoint stopped
				continue
			}
		case d, ok = <-info:
			if !ok {
				info = nil
				continue
			}
		case <-ch.stop:
			return
		}
		if d.Source != last.Source && d.Key == last.Key && d.At.Sub(last.At) < crossSourceWindow {
			continue // the same press reported by a second source
		}
		last = d
		ch.onDigit(d)
		select {
		case ch.digits <- d.Key:
		default: // 64 keys typed ahead and never read: the caller is mashing keys; drop
		}
	}
}

// close stops the digit reader and waits for it; idempotent.
func (ch *channel) close() {
	ch.once.Do(func() { close(ch.stop) })
	ch.wg.Wait()
}
