package ivr_test

import (
	"context"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/ivr/flowfile"
	"github.com/stretchr/testify/require"
)

// promptLength is how long every fake prompt plays.
const promptLength = 2 * time.Second

// fakeChannel is a scripted caller. Each prompt plays for promptLength of
// (synctest) time; keys can be pressed a moment after a given prompt starts,
// or at a time since the call began.
type fakeChannel struct {
	digits chan byte

	mu      sync.Mutex
	press   map[string][]pressing // "lang:prompt" → keys pressed when it plays
	played  []string              // "lang:prompt", in order started
	stopped []string              // prompts cut short
}

type pressing struct {
	after time.Duration
	keys  string
}

func newFake() *fakeChannel {
	return &fakeChannel{digits: make(chan byte, 64), press: map[string][]pressing{}}
}

// during presses keys `after` into the next playing of prompt ("lang:name").
func (f *fakeChannel) during(prompt string, after time.Duration, keys string) *fakeChannel {
	f.press[prompt] = append(f.press[prompt], pressing{after, keys})
	return f
}

// at presses keys at a time since now; the goroutine ends by itself.
func (f *fakeChannel) at(t *testing.T, after time.Duration, keys string) {
	t.Helper()
	go func() {
		time.Sleep(after)
		f.send(keys)
	}()
}

func (f *fakeChannel) send(keys string) {
	for i := range len(keys) {
		f.digits <- keys[i]
	}
}

func (f *fakeChannel) Digits() <-chan byte { return f.digits }

// fakePlayback plays on a goroutine of its own (a test double: the real
// channel needs none).
type fakePlayback struct {
	done   chan error
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

func (p *fakePlayback) Done() <-chan error { return p.done }

func (p *fakePlayback) Stop() {
	p.once.Do(func() {
		p.cancel()
		p.wg.Wait()
	})
}

func (f *fakeChannel) Start(lang string, prompts ...string) (ivr.Playback, error) {
	ctx, cancel := context.WithCancel(context.Background())
	p := &fakePlayback{done: make(chan error, 1), cancel: cancel}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := f.play(ctx, lang, prompts...); ctx.Err() == nil {
			p.done <- err
		}
	}()
	return p, nil
}

func (f *fakeChannel) play(ctx context.Context, lang string, prompts ...string) error {
	for _, p := range prompts {
		key := lang + ":" + p
		f.mu.Lock()
		f.played = append(f.played, key)
		var script []pressing
		if s := f.press[key]; len(s) > 0 {
			script, f.press[key] = s[:1], s[1:]
		}
		f.mu.Unlock()
		left := promptLength
		for _, s := range script {
			if err := f.wait(ctx, key, s.after); err != nil {
				return err
			}
			left -= s.after
			f.send(s.keys)
		}
		if err := f.wait(ctx, key, left); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeChannel) wait(ctx context.Context, key string, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		f.stopped = append(f.stopped, key)
		f.mu.Unlock()
		return ctx.Err()
	}
}

func (f *fakeChannel) Played() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.played)
}

func (f *fakeChannel) Stopped() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.stopped)
}

// parseFlows parses YAML flow files keyed by flow name.
func parseFlows(t *testing.T, files map[string]string) map[string]*ivr.Flow {
	t.Helper()
	flows := map[string]*ivr.Flow{}
	for name, text := range files {
		f, err := flowfile.Parse(name+".yaml", []byte(text))
		require.NoError(t, err)
		f.Name = name
		flows[name] = f
	}
	return flows
}

// engine builds an engine from one YAML flow called "main".
func engine(t *testing.T, text string) *ivr.Engine {
	t.Helper()
	e, err := ivr.NewEngine(parseFlows(t, map[string]string{"main": text}))
	require.NoError(t, err)
	return e
}

// demoEngine loads the shipped demo flow.
func demoEngine(t *testing.T) *ivr.Engine {
	t.Helper()
	f, err := flowfile.Load(demoFS(), "demo.yaml")
	require.NoError(t, err)
	e, err := ivr.NewEngine(map[string]*ivr.Flow{"demo": f})
	require.NoError(t, err)
	return e
}

// prompts is a PromptSet from a list of "lang:name".
type prompts []string

func (p prompts) Has(lang, name string) bool { return slices.Contains(p, lang+":"+name) }

func (p prompts) Languages() []string {
	var out []string
	for _, s := range p {
		lang, _, _ := strings.Cut(s, ":")
		if !slices.Contains(out, lang) {
			out = append(out, lang)
		}
	}
	return out
}

// demoFS holds the shipped demo flow.
func demoFS() fs.FS { return os.DirFS("../internal/demo/flows") }
