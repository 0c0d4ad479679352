package ivr_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/ivr/flowfile"
	"github.com/stretchr/testify/require"

	_ "time/tzdata" // tests must not depend on the machine's zoneinfo
)

// runDemo runs the demo flow against f inside a synctest bubble.
func runDemo(t *testing.T, f *fakeChannel, o ivr.RunOptions) (ivr.Outcome, error) {
	t.Helper()
	return demoEngine(t).Run(t.Context(), "demo", f, o)
}

func TestDemoMenuChoice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		// welcome 2 s, choose-language en+ru 4 s, 4 s timeout → English, main menu at 10 s.
		f.at(t, 13*time.Second, "2")
		out, err := runDemo(t, f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, ivr.KindQueue, out.Kind)
		require.Equal(t, "billing", out.Queue)
		require.Equal(t, "en", out.Language)
		require.Equal(t, "2", out.Digits)
		require.Equal(t, []string{"hours", "welcome", "choose-language", "main", "to-billing"}, out.Path)
		require.Equal(t, []string{"en:welcome", "en:choose-language", "ru:choose-language", "en:main-menu", "en:connecting"}, f.Played())
		require.Empty(t, f.Stopped())
	})
}

func TestDemoBargeInStopsMenuPrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake().during("en:main-menu", 500*time.Millisecond, "0")
		start := time.Now()
		out, err := runDemo(t, f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, "operator", out.Queue)
		require.Equal(t, []string{"en:main-menu"}, f.Stopped())
		// 10 s to reach the menu, 0.5 s into it, then 2 s of "connecting".
		require.Equal(t, 12500*time.Millisecond, time.Since(start))
	})
}

func TestDemoTypeAheadDuringWelcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A caller who knows the menu: 1 English, 1 support, # no serial.
		f := newFake().during("en:welcome", time.Second, "11#")
		out, err := runDemo(t, f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, ivr.KindQueue, out.Kind)
		require.Equal(t, "support", out.Queue)
		require.Equal(t, "en", out.Language)
		require.Equal(t, map[string]string{"serial": ""}, out.Vars)
		require.Equal(t, "11#", out.Digits)
		require.Equal(t, []string{"hours", "welcome", "choose-language", "main", "enter-serial", "to-support"}, out.Path)
		// Steps are the path as the agent reads it: labels, the language
		// chosen, and the serial the caller skipped.
		require.Len(t, out.Steps, len(out.Path))
		for i, st := range out.Steps {
			require.Equal(t, out.Path[i], st.Node)
		}
		require.Equal(t, ivr.Step{Node: "choose-language", Type: ivr.TypeLanguage, Label: map[string]string{"en": "Language", "ru": "Язык"}, Value: "en"}, out.Steps[2])
		serial := out.Steps[4]
		require.Equal(t, ivr.TypeCollect, serial.Type)
		require.Equal(t, "serial", serial.Var)
		require.Equal(t, "", serial.Value)
		require.Equal(t, "Technical support", serial.Label["en"])
		require.Equal(t, map[string]string{"": ""}, out.Steps[0].Label, "hours is hidden")
		require.Equal(t, []string{"en:welcome", "en:connecting"}, f.Played(), "menus the caller dialled through stay silent")
		require.Equal(t, []string{"en:welcome"}, f.Stopped())
	})
}

func TestDemoSerialReadBackInRussian(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake().
			during("en:choose-language", time.Second, "2").
			during("ru:main-menu", time.Second, "1").
			during("ru:enter-serial", time.Second, "47114715#").
			during("ru:confirm-entry", time.Second, "1")
		out, err := runDemo(t, f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, "ru", out.Language)
		require.Equal(t, "support", out.Queue)
		require.Equal(t, map[string]string{"serial": "47114715"}, out.Vars)
		require.Equal(t, "2147114715#1", out.Digits)
		require.Equal(t, []string{"hours", "welcome", "choose-language", "main", "enter-serial", "to-support"}, out.Path)
		require.Equal(t, []string{
			"en:welcome", "en:choose-language", // Russian chosen before its own prompt
			"ru:main-menu", "ru:enter-serial", "ru:you-entered",
			"ru:digit-4", "ru:digit-7", "ru:digit-1", "ru:digit-1",
			"ru:digit-4", "ru:digit-7", "ru:digit-1", "ru:digit-5",
			"ru:confirm-entry", "ru:connecting",
		}, f.Played())
	})
}

func TestDemoBadSerialsGoToSupportWithoutOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake().
			during("en:welcome", time.Second, "11").
			during("en:enter-serial", time.Second, "4711#").     // too short
			during("en:enter-serial", time.Second, "47114716#"). // wrong check digit
			during("en:enter-serial", time.Second, "47114715#"). // good, but the caller presses 2
			during("en:confirm-entry", time.Second, "2")
		var events []ivr.Event
		out, err := runDemo(t, f, ivr.RunOptions{OnEvent: func(e ivr.Event) { events = append(events, e) }})
		require.NoError(t, err)
		require.Equal(t, "support", out.Queue)
		require.Empty(t, out.Vars, "no serial")
		require.Equal(t, []string{"hours", "welcome", "choose-language", "main", "enter-serial", "to-support"}, out.Path)
		require.Contains(t, events, ivr.Event{Node: "enter-serial", Kind: "invalid", Detail: "4711 too short"})
		require.Contains(t, events, ivr.Event{Node: "enter-serial", Kind: "invalid", Detail: "47114716 check digit"})
		require.Contains(t, events, ivr.Event{Node: "enter-serial", Kind: "reenter", Detail: "47114715"})
		require.Equal(t, "en:connecting", f.Played()[len(f.Played())-1])
	})
}

func TestDemoTicketStatusThenMainMenu(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tickets := &fakeTickets{found: true, status: ivr.TicketStatus{Status: "pending", Updated: time.Now().AddDate(0, 0, -3)}}
		f := newFake().
			during("en:welcome", time.Second, "13").
			during("en:enter-ticket", time.Second, "1042#").
			during("en:main-menu", time.Second, "2")
		out, err := runDemo(t, f, ivr.RunOptions{Tickets: tickets, Caller: "+15550100"})
		require.NoError(t, err)
		require.Equal(t, "billing", out.Queue)
		require.Equal(t, []string{"1042 +15550100"}, tickets.asked)
		require.Equal(t, []string{
			"en:welcome", "en:enter-ticket",
			"en:ticket-status-is", "en:status-pending", "en:updated", "en:digit-3", "en:days-ago",
			"en:main-menu", "en:connecting",
		}, f.Played())
	})
}

func TestDemoInvalidThenTimeoutThenGoodbye(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake().
			during("en:main-menu", time.Second, "9"). // try 1: no such option
			during("en:main-menu", time.Second, "7")  // try 2: no such option; try 3: silence
		out, err := runDemo(t, f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, ivr.KindHangup, out.Kind)
		require.Equal(t, "97", out.Digits)
		require.Equal(t, []string{
			"en:welcome", "en:choose-language", "ru:choose-language",
			"en:main-menu", "en:invalid",
			"en:main-menu", "en:invalid",
			"en:main-menu", "en:no-input",
			"en:goodbye",
		}, f.Played())
		require.Equal(t, []string{"hours", "welcome", "choose-language", "main", "goodbye"}, out.Path)
	})
}

func TestDemoTicketPatternAndRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake().
			during("en:welcome", time.Second, "13").
			during("en:enter-ticket", time.Second, "12*4#"). // * is not a ticket digit
			during("en:enter-ticket", time.Second, "1234#").
			during("en:main-menu", time.Second, "0")
		out, err := runDemo(t, f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, "operator", out.Queue)
		require.Equal(t, map[string]string{"ticket": "1234"}, out.Vars)
		require.Equal(t, []string{"hours", "welcome", "choose-language", "main", "enter-ticket", "ticket-status", "main", "to-operator"}, out.Path)
		require.Equal(t, []string{
			"en:welcome", "en:enter-ticket", "en:invalid", "en:enter-ticket",
			"en:ticket-unknown", // no ticket lookup: every ticket is unknown
			"en:main-menu", "en:connecting",
		}, f.Played())
	})
}

func TestFlushDropsTypeAhead(t *testing.T) {
	const flow = `
start: hello
nodes:
  hello: {type: play, prompt: hello, barge_in: false, next: menu}
  menu:
    type: menu
    prompt: menu
    flush: true
    options: {"1": one, "2": two}
    timeout: 3s
    exhausted: one
  one: {type: queue, queue: one}
  two: {type: queue, queue: two}
`
	synctest.Test(t, func(t *testing.T) {
		f := newFake().during("en:hello", time.Second, "1")
		f.at(t, 4*time.Second+500*time.Millisecond, "2") // hello 2 s, menu 2 s, then 2
		out, err := engine(t, flow).Run(t.Context(), "main", f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, "two", out.Queue, "the 1 pressed during hello was flushed")
		require.Equal(t, "2", out.Digits)
		require.Equal(t, []string{"en:hello", "en:menu"}, f.Played())
		require.Empty(t, f.Stopped(), "barge_in: false plays hello to the end")
	})
}

func TestNoBargeInKeepsTypeAhead(t *testing.T) {
	const flow = `
start: hello
nodes:
  hello: {type: play, prompt: hello, barge_in: false, next: menu}
  menu: {type: menu, prompt: menu, options: {"1": one}, exhausted: one}
  one: {type: hangup}
`
	synctest.Test(t, func(t *testing.T) {
		f := newFake().during("en:hello", 100*time.Millisecond, "1")
		start := time.Now()
		out, err := engine(t, flow).Run(t.Context(), "main", f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, ivr.KindHangup, out.Kind)
		require.Equal(t, []string{"en:hello"}, f.Played(), "the menu prompt is skipped: the caller already chose")
		require.Equal(t, promptLength, time.Since(start))
	})
}

func TestMultiDigitOptions(t *testing.T) {
	const flow = `
start: menu
nodes:
  menu:
    type: menu
    prompt: menu
    options: {"1": one, "11": eleven, "12": twelve}
    inter_digit: 2s
    tries: 1
    exhausted: bye
  one: {type: queue, queue: one}
  eleven: {type: queue, queue: eleven}
  twelve: {type: queue, queue: twelve}
  bye: {type: hangup}
`
	cases := map[string]struct {
		keys  string
		queue string
	}{
		"exact after more": {"12", "twelve"},
		"prefix waits":     {"11", "eleven"},
		"short on timeout": {"1", "one"},
		"no such option":   {"13", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake().during("en:menu", time.Second, tc.keys)
				out, err := engine(t, flow).Run(t.Context(), "main", f, ivr.RunOptions{})
				require.NoError(t, err)
				require.Equal(t, tc.queue, out.Queue)
				require.Equal(t, tc.keys, out.Digits)
			})
		})
	}
}

func TestCollect(t *testing.T) {
	const flow = `
start: ask
nodes:
  ask:
    type: collect
    prompt: ask
    var: code
    min_digits: 3
    max_digits: 4
    pattern: "[1-5]+"
    tries: 2
    invalid_prompt: invalid
    timeout_prompt: no-input
    timeout: 3s
    inter_digit: 2s
    next: done
    exhausted: failed
  done: {type: queue, queue: ok}
  failed: {type: hangup}
`
	cases := map[string]struct {
		keys   []string // typed during each playing of "ask"
		kind   string
		code   string
		played []string
	}{
		"terminator":                     {[]string{"123#"}, ivr.KindQueue, "123", []string{"en:ask"}},
		"max digits":                     {[]string{"12345"}, ivr.KindQueue, "1234", []string{"en:ask"}},
		"inter-digit timeout ends input": {[]string{"123"}, ivr.KindQueue, "123", []string{"en:ask"}},
		"pattern fails then ok": {[]string{"129#", "55#"}, ivr.KindHangup, "", []string{
			"en:ask", "en:invalid", "en:ask", "en:invalid"}}, // 55 is too short
		"too short then ok": {[]string{"12#", "345#"}, ivr.KindQueue, "345", []string{"en:ask", "en:invalid", "en:ask"}},
		"nothing at all":    {nil, ivr.KindHangup, "", []string{"en:ask", "en:no-input", "en:ask", "en:no-input"}},
		"empty not allowed": {[]string{"#", "#"}, ivr.KindHangup, "", []string{"en:ask", "en:invalid", "en:ask", "en:invalid"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				for _, k := range tc.keys {
					f.during("en:ask", time.Second, k)
				}
				out, err := engine(t, flow).Run(t.Context(), "main", f, ivr.RunOptions{})
				require.NoError(t, err)
				require.Equal(t, tc.kind, out.Kind)
				require.Equal(t, tc.code, out.Vars["code"])
				require.Equal(t, tc.played, f.Played())
			})
		})
	}
}

func TestSayDigits(t *testing.T) {
	const flow = `
start: ask
nodes:
  ask: {type: collect, prompt: ask, var: n, terminator: none, max_digits: 4, next: say, exhausted: say}
  say: {type: say_digits, var: n, next: bye}
  bye: {type: hangup, prompt: goodbye}
`
	synctest.Test(t, func(t *testing.T) {
		f := newFake().during("en:ask", time.Second, "90*#")
		out, err := engine(t, flow).Run(t.Context(), "main", f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, "90*#", out.Vars["n"])
		require.Equal(t, []string{"en:ask", "en:digit-9", "en:digit-0", "en:star", "en:hash", "en:goodbye"}, f.Played())
	})
}

func TestHours(t *testing.T) {
	const flow = `
start: hours
nodes:
  hours:
    type: hours
    time_zone: Europe/Berlin
    schedule: ["mon-fri 09:00-18:00", "sat 10:00-14:00"]
    holidays: ["2026-12-25"]
    open: open
    closed: closed
  open: {type: queue, queue: open}
  closed: {type: hangup, prompt: closed}
`
	utc := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return ts
	}
	cases := map[string]struct {
		now  time.Time
		kind string
	}{
		// Berlin is UTC+1 in winter.
		"monday 09:30 Berlin":   {utc("2026-11-23T08:30:00Z"), ivr.KindQueue},
		"monday 08:30 Berlin":   {utc("2026-11-23T07:30:00Z"), ivr.KindHangup},
		"friday 17:59 Berlin":   {utc("2026-11-27T16:59:00Z"), ivr.KindQueue},
		"friday 18:00 Berlin":   {utc("2026-11-27T17:00:00Z"), ivr.KindHangup},
		"saturday 10:30 Berlin": {utc("2026-11-28T09:30:00Z"), ivr.KindQueue},
		"sunday noon":           {utc("2026-11-29T11:00:00Z"), ivr.KindHangup},
		"christmas friday noon": {utc("2026-12-25T11:00:00Z"), ivr.KindHangup},
		// 23:30 UTC on Thursday 24th is already the 25th in Berlin.
		"christmas by Berlin date": {utc("2026-12-24T23:30:00Z"), ivr.KindHangup},
		"summer time UTC+2":        {utc("2026-07-01T07:30:00Z"), ivr.KindQueue},
	}
	e := engine(t, flow)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				out, err := e.Run(t.Context(), "main", newFake(), ivr.RunOptions{Now: func() time.Time { return tc.now }})
				require.NoError(t, err)
				require.Equal(t, tc.kind, out.Kind)
			})
		})
	}
}

func TestGotoAcrossFlows(t *testing.T) {
	flows := parseFlows(t, map[string]string{
		"front": `
start: hello
nodes:
  hello: {type: play, prompt: hello, next: jump}
  jump: {type: goto, next: "sales:"}
`,
		"sales": `
start: menu
nodes:
  menu: {type: menu, prompt: sales-menu, options: {"1": q}, exhausted: back}
  q: {type: queue, queue: sales, priority: 5, skills: [de, vip]}
  back: {type: goto, next: "front:hello"}
`,
	})
	e, err := ivr.NewEngine(flows)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		f := newFake().during("de:sales-menu", time.Second, "1")
		out, err := e.Run(t.Context(), "front", f, ivr.RunOptions{Language: "de"})
		require.NoError(t, err)
		require.Len(t, out.Steps, 4)
		require.Equal(t, ivr.Step{Node: "sales:menu", Type: ivr.TypeMenu}, out.Steps[2], "steps name nodes as the path does")
		out.Steps = nil
		require.Equal(t, ivr.Outcome{
			Kind: ivr.KindQueue, Queue: "sales", Priority: 5, Skills: []string{"de", "vip"},
			Language: "de", Vars: map[string]string{}, Digits: "1",
			Path: []string{"hello", "jump", "sales:menu", "sales:q"},
		}, out)
	})
}

func TestLanguageInvalidThenDefault(t *testing.T) {
	const flow = `
start: lang
language: ru
nodes:
  lang: {type: language, prompt: choose, options: {"1": en, "2": de}, default: de, tries: 2, next: bye}
  bye: {type: hangup, prompt: goodbye}
`
	synctest.Test(t, func(t *testing.T) {
		f := newFake().during("en:choose", time.Second, "5").during("en:choose", time.Second, "7")
		out, err := engine(t, flow).Run(t.Context(), "main", f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, "de", out.Language)
		require.Equal(t, []string{"en:choose", "en:choose", "de:goodbye"}, f.Played())
	})
}

func TestCancelMidPrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		f := newFake()
		go func() {
			time.Sleep(3 * time.Second) // one second into choose-language
			cancel()
		}()
		out, err := demoEngine(t).Run(ctx, "demo", f, ivr.RunOptions{})
		require.ErrorIs(t, err, context.Canceled)
		require.Empty(t, out.Kind)
		require.Equal(t, []string{"hours", "welcome", "choose-language"}, out.Path)
		require.Equal(t, []string{"en:choose-language"}, f.Stopped())
	})
}

func TestCancelWhileWaitingForDigits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // enter-ticket plays 1-3 s
		defer cancel()
		f := newFake().during("en:welcome", time.Second, "13")
		out, err := demoEngine(t).Run(ctx, "demo", f, ivr.RunOptions{})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, "13", out.Digits)
		require.Equal(t, "enter-ticket", out.Path[len(out.Path)-1])
	})
}

func TestEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events []ivr.Event
		f := newFake().during("en:welcome", time.Second, "2").during("ru:main-menu", time.Second, "x2")
		out, err := runDemo(t, f, ivr.RunOptions{OnEvent: func(e ivr.Event) { events = append(events, e) }})
		require.NoError(t, err)
		require.Equal(t, "billing", out.Queue)
		require.Contains(t, events, ivr.Event{Node: "welcome", Kind: "digit", Detail: "2"})
		require.Contains(t, events, ivr.Event{Node: "choose-language", Kind: "language", Detail: "ru"})
		require.Contains(t, events, ivr.Event{Node: "main", Kind: "ignored", Detail: `'x'`})
		require.Contains(t, events, ivr.Event{Node: "to-billing", Kind: "outcome", Detail: "queue"})
	})
}

func TestRunUnknownFlow(t *testing.T) {
	_, err := demoEngine(t).Run(t.Context(), "nope", newFake(), ivr.RunOptions{})
	require.EqualError(t, err, `ivr: unknown flow "nope"`)
}

// playFails is a channel whose prompts cannot play.
type playFails struct{ *fakeChannel }

func (playFails) Start(string, ...string) (ivr.Playback, error) {
	return played{context.DeadlineExceeded}, nil
}

func TestPlayErrorEndsRun(t *testing.T) {
	out, err := demoEngine(t).Run(t.Context(), "demo", playFails{newFake()}, ivr.RunOptions{})
	require.ErrorContains(t, err, "ivr: play en welcome")
	require.Empty(t, out.Kind)
}

// instantChannel plays every prompt in no time; its keys are pressed up front.
type instantChannel struct{ digits chan byte }

func (c instantChannel) Start(string, ...string) (ivr.Playback, error) { return played{nil}, nil }
func (c instantChannel) Digits() <-chan byte                           { return c.digits }

// played is a playback that is over at once, with err.
type played struct{ err error }

func (p played) Done() <-chan error {
	ch := make(chan error, 1)
	ch <- p.err
	return ch
}
func (played) Stop() {}

// BenchmarkRunDemoTypeAhead measures one caller dialling "11#" through the demo.
func BenchmarkRunDemoTypeAhead(b *testing.B) {
	f, err := flowfile.Load(demoFS(), "demo.yaml")
	require.NoError(b, err)
	e, err := ivr.NewEngine(map[string]*ivr.Flow{"demo": f})
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		ch := instantChannel{digits: make(chan byte, 3)}
		ch.digits <- '1'
		ch.digits <- '1'
		ch.digits <- '#'
		out, err := e.Run(b.Context(), "demo", ch, ivr.RunOptions{})
		if err != nil || out.Queue != "support" {
			b.Fatalf("got %+v, %v", out, err)
		}
	}
}
