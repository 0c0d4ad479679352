// Package browsertest drives Debian's headless Chromium from Go tests
// (chromedp), with fake media devices: the fake microphone plays a clean tone
// from a WAV file this package writes, and RemoteLevel measures what the page
// hears on its <audio id="remote-audio"> element with a Web Audio analyser.
//
// One Browser per test (start it once and open a Page per subtest): a start
// costs about a third of a second. The browser and all its child processes
// are killed when the test that started it ends.
//
// Chromium must be installed (Debian package "chromium", /usr/bin/chromium);
// a missing browser fails the test with a message that says so.
package browsertest

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultExecPath is where Debian's chromium package installs the browser.
const DefaultExecPath = "/usr/bin/chromium"

// DefaultTimeout bounds each Page action (navigation, waits, evaluation).
const DefaultTimeout = 10 * time.Second

// Options configures Start.
type Options struct {
	// ExecPath is the browser binary; empty means $HOTLINE_CHROMIUM, then
	// DefaultExecPath.
	ExecPath string
	// MicToneHz is the frequency of the tone the fake microphone plays; 0
	// plays silence.
	MicToneHz float64
	// MicLevel is the tone's peak amplitude, a fraction of full scale
	// (default 0.3).
	MicLevel float64
	// Lang sets the browser's language (navigator.language), e.g. "en-US" or
	// "ru-RU"; empty means "en-US".
	Lang string
	// Timeout bounds each Page action; zero means DefaultTimeout.
	Timeout time.Duration
	// TrustCertificates are server certificates (self-signed ones, say) the
	// browser accepts as if a CA had signed them, matched by public key: a
	// page from a server holding one is a secure context (getUserMedia
	// works), and every other certificate error still fails.
	TrustCertificates []*x509.Certificate
	// Hosts maps host names to addresses for the browser alone
	// ("hotline.test" → "127.0.0.2"), so a test can open a page by a name
	// that is not loopback to the browser's eyes, as an agent on another
	// machine would, while the traffic stays on this machine.
	Hosts map[string]string
}

// Browser is one running Chromium.
type Browser struct {
	opt         Options
	allocCtx    context.Context
	allocCancel context.CancelFunc
	ctx         context.Context // the browser's own context (its first tab)
	cancel      context.CancelFunc
	closeOnce   sync.Once
}

// Start launches headless Chromium with fake media devices and registers its
// shutdown with t.Cleanup. It fails t if the browser is missing or does not
// start.
func Start(t testing.TB, opt Options) *Browser {
	t.Helper()
	if opt.ExecPath == "" {
		opt.ExecPath = os.Getenv("HOTLINE_CHROMIUM")
	}
	if opt.ExecPath == "" {
		opt.ExecPath = DefaultExecPath
	}
	if _, err := exec.LookPath(opt.ExecPath); err != nil {
		t.Fatalf("browsertest: Chromium not found at %s (%v): install the Debian package \"chromium\" "+
			"(apt-get install chromium) or set HOTLINE_CHROMIUM", opt.ExecPath, err)
	}
	if opt.MicLevel <= 0 || opt.MicLevel > 1 {
		opt.MicLevel = 0.3
	}
	if opt.Lang == "" {
		opt.Lang = "en-US"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}

	wav := filepath.Join(t.TempDir(), "mic.wav")
	if err := writeToneWAV(wav, opt.MicToneHz, opt.MicLevel); err != nil {
		t.Fatalf("browsertest: fake microphone file: %v", err)
	}

	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(opt.ExecPath),
		// Media: grant getUserMedia without a prompt, use fake devices, play
		// our WAV as the microphone, and offer 127.0.0.1 candidates.
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", wav),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		// Keep the browser off the network: this machine's network is
		// closed, and every refused connection costs time.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("lang", opt.Lang),
		chromedp.Flag("accept-lang", opt.Lang),
	)
	if len(opt.TrustCertificates) > 0 {
		flags = append(flags, chromedp.Flag("ignore-certificate-errors-spki-list", spkiList(opt.TrustCertificates)))
	}
	if len(opt.Hosts) > 0 {
		rules := make([]string, 0, len(opt.Hosts))
		for _, name := range slices.Sorted(maps.Keys(opt.Hosts)) {
			rules = append(rules, "MAP "+name+" "+opt.Hosts[name])
		}
		flags = append(flags, chromedp.Flag("host-resolver-rules", strings.Join(rules, ",")))
	}
	b := &Browser{opt: opt}
	b.allocCtx, b.allocCancel = chromedp.NewExecAllocator(context.Background(), flags...)
	b.ctx, b.cancel = chromedp.NewContext(b.allocCtx)
	t.Cleanup(b.Close)
	// The first Run starts the browser and binds it to b.ctx, which has no
	// deadline; the start itself is bounded by watching it from here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(b.ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("browsertest: start %s: %v", opt.ExecPath, err)
		}
	case <-time.After(30 * time.Second):
		b.Close()
		<-started
		t.Fatalf("browsertest: %s did not start within 30 s", opt.ExecPath)
	}
	return b
}

// spkiList is Chromium's form of certificates to trust: the base64 SHA-256
// of each one's public key (SubjectPublicKeyInfo), comma-separated.
func spkiList(certs []*x509.Certificate) string {
	out := make([]string, 0, len(certs))
	for _, c := range certs {
		sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
		out = append(out, base64.StdEncoding.EncodeToString(sum[:]))
	}
	return strings.Join(out, ",")
}

// Close stops the browser and waits for its processes to exit. It is
// idempotent; Start registers it with t.Cleanup.
func (b *Browser) Close() {
	b.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		_ = chromedp.Cancel(ctx) // graceful close; the cancels below kill what is left
		b.cancel()
		b.allocCancel()
	})
}

// Page is one browser tab, bound to the test that opened it.
type Page struct {
	t       testing.TB
	b       *Browser
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	console []string // console lines and uncaught exceptions, shown when the test fails
	done    bool
}

// NewPage opens a new tab for t. The tab closes when t ends; if t failed,
// the page's console output is logged.
func (b *Browser) NewPage(t testing.TB) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	p := &Page{t: t, b: b, ctx: ctx, cancel: cancel}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("browsertest: new tab: %v", err)
	}
	if err := chromedp.Listen(ctx, p.onEvent); err != nil {
		cancel()
		t.Fatalf("browsertest: listen: %v", err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		p.done = true
		lines := p.console
		p.mu.Unlock()
		if t.Failed() && len(lines) > 0 {
			t.Logf("browser console:\n%s", strings.Join(lines, "\n"))
		}
		cancel()
	})
	return p
}

// onEvent keeps the page's console output; it runs on chromedp's reader
// goroutine, so it only appends under the lock.
func (p *Page) onEvent(ev any) {
	var line string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		parts := make([]string, 0, len(ev.Args))
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		line = "uncaught: " + d.Text
		if d.Exception != nil {
			line += " " + d.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		// The browser's own messages: Content Security Policy violations
		// (source "security"), failed loads ("network"), and others.
		e := ev.Entry
		line = fmt.Sprintf("log.%s (%s): %s", e.Level, e.Source, e.Text)
	default:
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done && len(p.console) < 500 {
		p.console = append(p.console, line)
	}
}

// Console returns what the page logged so far: console calls ("console.log:
// ...", "console.error: ..."), uncaught exceptions ("uncaught: ...") and
// the browser's own messages about the page ("log.error (security): ...",
// as a Content Security Policy violation is reported).
func (p *Page) Console() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.console)
}

// run runs one action with the page's timeout; what failed goes in the error.
func run[T any](p *Page, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.b.opt.Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			p.t.Fatalf("browsertest: %s: timed out after %v", what, p.b.opt.Timeout)
		}
		p.t.Fatalf("browsertest: %s: %v", what, err)
	}
	return v
}

// try is run for polling loops: an error (the page navigating between two
// polls, say) is returned for the loop to retry, not fatal.
func try[T any](p *Page, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.b.opt.Timeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// Open navigates the tab to url and waits for the page to load.
func (p *Page) Open(url string) {
	p.t.Helper()
	run(p, "open "+url, chromedp.Navigate(url))
}

// Reload reloads the page and waits for it to load.
func (p *Page) Reload() {
	p.t.Helper()
	run(p, "reload", chromedp.Reload())
}

// Click clicks the first element matching the CSS selector, once visible.
func (p *Page) Click(sel string) {
	p.t.Helper()
	run(p, "click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// Type types text into the element matching the CSS selector.
func (p *Page) Type(sel, text string) {
	p.t.Helper()
	run(p, "type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// SetValue sets the value of a form field (select, input) and fires its
// input and change events, as a user's choice would.
func (p *Page) SetValue(sel, value string) {
	p.t.Helper()
	expr := fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) throw new Error('no element ' + %q);
		el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
		return el.value;
	})()`, sel, sel, value)
	got := run(p, "set value of "+sel, chromedp.Evaluate[string](expr))
	if got != value {
		p.t.Fatalf("browsertest: set value of %s to %q: it has no such option (value is %q)", sel, value, got)
	}
}

// WaitVisible waits until the element matching the CSS selector is visible.
func (p *Page) WaitVisible(sel string) {
	p.t.Helper()
	run(p, "wait for "+sel+" to be visible", chromedp.WaitVisible(chromedp.CSS(sel)))
}

// WaitHidden waits until the element matching the CSS selector is present
// but not visible.
func (p *Page) WaitHidden(sel string) {
	p.t.Helper()
	run(p, "wait for "+sel+" to be hidden", chromedp.WaitNotVisible(chromedp.CSS(sel)))
}

// Visible reports whether the element matching the CSS selector exists and
// is rendered (not hidden, not display:none).
func (p *Page) Visible(sel string) bool {
	p.t.Helper()
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.getClientRects().length > 0; })()`, sel)
	return run(p, "visibility of "+sel, chromedp.Evaluate[bool](expr))
}

// Text returns the visible text of the element matching the CSS selector.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) throw new Error('no element ' + %q); return el.innerText; })()`, sel, sel)
	return run(p, "text of "+sel, chromedp.Evaluate[string](expr))
}

// WaitText waits until the visible text of the element matching the CSS
// selector contains substr, and returns the text.
func (p *Page) WaitText(sel, substr string) string {
	p.t.Helper()
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return el ? el.innerText : null; })()`, sel)
	deadline := time.Now().Add(p.b.opt.Timeout)
	last := "(no such element)"
	for {
		got, err := try(p, chromedp.Evaluate[*string](expr))
		switch {
		case err != nil:
			last = "(" + err.Error() + ")" // navigating: try again
		case got != nil:
			last = *got
			if strings.Contains(last, substr) {
				return last
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("browsertest: %s: want text containing %q, have %q after %v", sel, substr, last, p.b.opt.Timeout)
		}
		p.pause(50 * time.Millisecond)
	}
}

// WaitTrue waits until the JavaScript expression is true.
func (p *Page) WaitTrue(expr string) {
	p.t.Helper()
	deadline := time.Now().Add(p.b.opt.Timeout)
	for {
		ok, err := try(p, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("browsertest: %s is still false after %v (last error: %v)", expr, p.b.opt.Timeout, err)
		}
		p.pause(50 * time.Millisecond)
	}
}

// pause waits d between polls, or until the tab's context ends.
func (p *Page) pause(d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-p.ctx.Done():
	}
}

// Eval evaluates a JavaScript expression in the page and decodes its value
// into T (promises are awaited). It fails the test on an exception.
func Eval[T any](p *Page, expr string) T {
	p.t.Helper()
	return run(p, "evaluate "+expr, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// SetViewport sizes the page's window in CSS pixels (a phone is about 420
// wide), for layout checks and screenshots.
func (p *Page) SetViewport(width, height int) {
	p.t.Helper()
	run(p, "viewport", chromedp.EmulateViewport(int64(width), int64(height)))
}

// Screenshot returns a PNG of the whole page, for looking at a failure.
func (p *Page) Screenshot() []byte {
	p.t.Helper()
	return run(p, "screenshot", chromedp.FullScreenshot(100))
}
