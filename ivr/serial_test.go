package ivr_test

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotline/hotline/ivr"
	"github.com/stretchr/testify/require"
)

const serialFlow = `
start: ask
nodes:
  ask:
    type: collect
    prompt: ask
    var: serial
    min_digits: 8
    max_digits: 12
    check: luhn
    confirm: confirm
    empty: skip
    tries: 3
    timeout: 4s
    invalid_prompt: invalid
    timeout_prompt: no-input
    next: done
    exhausted: failed
  done: {type: queue, queue: ok}
  skip: {type: queue, queue: skip}
  failed: {type: queue, queue: failed}
`

// readBack is what the caller hears after entering value: "you entered",
// the digits, and the confirmation prompt.
func readBack(lang, value string) []string {
	out := []string{lang + ":you-entered"}
	for _, c := range value {
		out = append(out, lang+":digit-"+string(c))
	}
	return append(out, lang+":confirm")
}

// steps lists the events of the kinds a serial test is about, as "kind detail".
func steps(events []ivr.Event) []string {
	var out []string
	for _, e := range events {
		switch e.Kind {
		case "invalid", "confirm", "reenter", "exhausted", "var", "timeout":
			out = append(out, e.Kind+" "+e.Detail)
		}
	}
	return out
}

func TestSerialCheckAndConfirm(t *testing.T) {
	twelve := "42424242424"
	d, ok := ivr.CheckDigit(ivr.CheckLuhn, twelve)
	require.True(t, ok)
	twelve += string(d)

	cases := map[string]struct {
		ask     []string // typed during each playing of "ask"
		confirm []string // typed during each playing of "confirm"
		queue   string
		serial  *string // nil: the var is not set
		played  []string
		steps   []string
	}{
		"good, confirmed with 1": {
			ask: []string{"47114715#"}, confirm: []string{"1"}, queue: "ok", serial: ptr("47114715"),
			played: append([]string{"en:ask"}, readBack("en", "47114715")...),
			steps:  []string{"confirm 1", "var serial=47114715"},
		},
		"no key at the read-back accepts": {
			ask: []string{"47114715#"}, queue: "ok", serial: ptr("47114715"),
			played: append([]string{"en:ask"}, readBack("en", "47114715")...),
			steps:  []string{"confirm timeout", "var serial=47114715"},
		},
		"2 enters it again": {
			ask: []string{"47114715#", "79927398713#"}, confirm: []string{"2", "1"}, queue: "ok", serial: ptr("79927398713"),
			played: slices.Concat([]string{"en:ask"}, readBack("en", "47114715"), []string{"en:ask"}, readBack("en", "79927398713")),
			steps:  []string{"reenter 47114715", "confirm 1", "var serial=79927398713"},
		},
		"wrong check digit, then good": {
			ask: []string{"47114716#", "47114715#"}, confirm: []string{"1"}, queue: "ok", serial: ptr("47114715"),
			played: slices.Concat([]string{"en:ask", "en:invalid", "en:ask"}, readBack("en", "47114715")),
			steps:  []string{"invalid 47114716 check digit", "confirm 1", "var serial=47114715"},
		},
		"too short, then good": {
			ask: []string{"4711#", "47114715#"}, confirm: []string{"1"}, queue: "ok", serial: ptr("47114715"),
			played: slices.Concat([]string{"en:ask", "en:invalid", "en:ask"}, readBack("en", "47114715")),
			steps:  []string{"invalid 4711 too short", "confirm 1", "var serial=47114715"},
		},
		"three bad serials: on without one": {
			ask: []string{"47114716#", "12345678#", "1#"}, queue: "failed",
			played: []string{"en:ask", "en:invalid", "en:ask", "en:invalid", "en:ask", "en:invalid"},
			steps:  []string{"invalid 47114716 check digit", "invalid 12345678 check digit", "invalid 1 too short", "exhausted "},
		},
		"re-entered on every try: on without one": {
			ask: []string{"47114715#", "47114715#", "47114715#"}, confirm: []string{"2", "2", "2"}, queue: "failed",
			played: slices.Concat([]string{"en:ask"}, readBack("en", "47114715"), []string{"en:ask"}, readBack("en", "47114715"),
				[]string{"en:ask"}, readBack("en", "47114715")),
			steps: []string{"reenter 47114715", "reenter 47114715", "reenter 47114715", "exhausted "},
		},
		"bad, then re-entered, then timeout: on without one": {
			ask: []string{"47114716#", "47114715#"}, confirm: []string{"2"}, queue: "failed",
			played: slices.Concat([]string{"en:ask", "en:invalid", "en:ask"}, readBack("en", "47114715"), []string{"en:ask", "en:no-input"}),
			steps:  []string{"invalid 47114716 check digit", "reenter 47114715", "timeout ", "exhausted "},
		},
		"hash alone skips, no read-back": {
			ask: []string{"#"}, queue: "skip", serial: ptr(""),
			played: []string{"en:ask"},
			steps:  []string{"var serial="},
		},
		"a wrong key at the read-back asks again": {
			ask: []string{"47114715#"}, confirm: []string{"5", "1"}, queue: "ok", serial: ptr("47114715"),
			played: slices.Concat([]string{"en:ask"}, readBack("en", "47114715"), []string{"en:invalid"}, readBack("en", "47114715")),
			steps:  []string{"invalid 5 confirm", "confirm 1", "var serial=47114715"},
		},
		"max digits then the terminator: the terminator is no answer": {
			ask: []string{twelve + "#"}, confirm: []string{"1"}, queue: "ok", serial: ptr(twelve),
			played: append([]string{"en:ask"}, readBack("en", twelve)...),
			steps:  []string{"confirm 1", "var serial=" + twelve},
		},
	}
	e := engine(t, serialFlow)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				for _, k := range tc.ask {
					f.during("en:ask", time.Second, k)
				}
				for _, k := range tc.confirm {
					f.during("en:confirm", time.Second, k)
				}
				var events []ivr.Event
				out, err := e.Run(t.Context(), "main", f, ivr.RunOptions{OnEvent: func(e ivr.Event) { events = append(events, e) }})
				require.NoError(t, err)
				require.Equal(t, tc.queue, out.Queue)
				serial, set := out.Vars["serial"]
				if tc.serial == nil {
					require.False(t, set, "serial is not set: %q", serial)
				} else {
					require.Equal(t, *tc.serial, serial)
				}
				require.Equal(t, tc.played, f.Played())
				require.Equal(t, tc.steps, steps(events))
			})
		})
	}
}

func TestSerialReadBackBargeIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The caller presses 1 right after the terminator: the read-back is skipped.
		f := newFake().during("ru:ask", time.Second, "47114715#1")
		start := time.Now()
		out, err := engine(t, serialFlow).Run(t.Context(), "main", f, ivr.RunOptions{Language: "ru"})
		require.NoError(t, err)
		require.Equal(t, "47114715", out.Vars["serial"])
		require.Equal(t, "47114715#1", out.Digits)
		require.Equal(t, []string{"ru:ask"}, f.Played())
		require.Equal(t, time.Second, time.Since(start), "barge-in stops ask; the queue node has no prompt")
	})
}

func TestSerialTimeoutAcceptsAfterTheNodesTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake().during("en:ask", time.Second, "47114715#")
		start := time.Now()
		out, err := engine(t, serialFlow).Run(t.Context(), "main", f, ivr.RunOptions{})
		require.NoError(t, err)
		require.Equal(t, "ok", out.Queue)
		// ask stopped at 1 s; 10 prompts of read-back; then the 4 s timeout.
		require.Equal(t, time.Second+10*promptLength+4*time.Second, time.Since(start))
	})
}

func ptr(s string) *string { return &s }
