package ivr_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/ivr/flowfile"
	"github.com/stretchr/testify/require"
)

// enRu has every prompt the validation tests use in English, and only some in Russian.
var enRu = prompts{"en:hello", "en:menu", "ru:hello"}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		flow string
		want []string // every problem, in order
	}{
		"good": {`
start: hello
nodes:
  hello: {type: play, prompt: hello, next: bye}
  bye: {type: hangup, prompt: hello}
`, nil},
		"unknown node type": {`
start: a
nodes:
  a:
    type: plya
`, []string{`main.yaml:5: node "a": unknown type "plya" (want play, menu, collect, say_digits, hours, language, goto, queue, hangup, ticket_status or voicemail)`}},
		"unknown next node": {`
start: a
nodes:
  a: {type: play, prompt: hello, next: b}
`, []string{`main.yaml:4: node "a": next "b" is not a node of flow "main"`}},
		"unknown menu option target": {`
start: m
nodes:
  m:
    type: menu
    prompt: hello
    options:
      "1": m
      "2": gone
    exhausted: m
`, []string{`main.yaml:9: node "m": 2 "gone" is not a node of flow "main"`}},
		"unknown start": {`
start: nowhere
nodes:
  a: {type: hangup}
`, []string{`main.yaml:2: start node "nowhere" is not a node of flow "main"`}},
		"goto an undefined flow": {`
start: a
nodes:
  a: {type: goto, next: "sales:menu"}
`, []string{`main.yaml:4: node "a": goto "sales:menu": flow "sales" is not defined`}},
		"prompt missing in one language": {`
start: m
nodes:
  m: {type: menu, prompt: menu, invalid_prompt: [hello, oops], options: {"1": m}, exhausted: m}
`, []string{
			`main.yaml:4: node "m": prompt "menu" is missing in language "ru"`,
			`main.yaml:4: node "m": prompt "oops" is missing in language "en"`,
			`main.yaml:4: node "m": prompt "oops" is missing in language "ru"`,
		}},
		"say_digits needs the digit prompts": {`
start: s
nodes:
  s: {type: say_digits, var: x, next: b}
  b: {type: hangup}
`, []string{
			`main.yaml:4: node "s": say_digits prompts missing in language "en": digit-0, digit-1, digit-2, digit-3, digit-4, digit-5, digit-6, digit-7, digit-8, digit-9, star, hash`,
			`main.yaml:4: node "s": say_digits prompts missing in language "ru": digit-0, digit-1, digit-2, digit-3, digit-4, digit-5, digit-6, digit-7, digit-8, digit-9, star, hash`,
		}},
		"language without prompts": {`
start: l
nodes:
  l: {type: language, prompt: hello, options: {"1": en, "2": de}, next: b}
  b: {type: hangup}
`, []string{`main.yaml:4: node "l": language "de" has no prompts (have en, ru)`}},
		"unreachable node": {`
start: a
nodes:
  a: {type: hangup}
  lost:
    type: hangup
`, []string{`main.yaml:5: node "lost" is unreachable from the start of any flow`}},
		"loop that never waits for input": {`
start: a
nodes:
  a: {type: play, prompt: hello, next: b}
  b: {type: goto, next: a}
`, []string{`main.yaml:4: loop never waits for input: a → b → a`}},
		"bad schedule": {`
start: h
nodes:
  h:
    type: hours
    time_zone: UTC
    schedule:
      - mon-fri 09:00-18:00
      - mon-fry 09:00-18:00
      - sat 14:00-10:00
      - sun 9-5
    holidays: ["2026-02-30"]
    open: b
    closed: b
  b: {type: hangup}
`, []string{
			`main.yaml:9: node "h": schedule entry "mon-fry 09:00-18:00": unknown day "fry" (use mon tue wed thu fri sat sun or daily)`,
			`main.yaml:10: node "h": schedule entry "sat 14:00-10:00": closing time must be after opening time (split a span across midnight in two)`,
			`main.yaml:11: node "h": schedule entry "sun 9-5": bad time "9" (want HH:MM from 00:00 to 24:00)`,
			`main.yaml:12: node "h": bad holiday "2026-02-30" (want YYYY-MM-DD)`,
		}},
		"bad time zone": {`
start: h
nodes:
  h:
    type: hours
    time_zone: Mars/Olympus_Mons
    schedule: [daily 00:00-24:00]
    open: b
    closed: b
  b: {type: hangup}
`, []string{`main.yaml:6: node "h": unknown time zone "Mars/Olympus_Mons"`}},
		"bad regexp": {`
start: c
nodes:
  c:
    type: collect
    var: x
    pattern: "[0-9"
    next: b
    exhausted: b
  b: {type: hangup}
`, []string{"main.yaml:7: node \"c\": bad pattern \"[0-9\": missing closing ]: `[0-9`"}},
		"missing fields": {`
start: c
nodes:
  c: {type: collect, terminator: none}
  q: {type: queue}
`, []string{
			`main.yaml:4: node "c": collect node needs var`,
			`main.yaml:4: node "c": collect node needs next`,
			`main.yaml:4: node "c": collect node needs exhausted (where to go after the last try)`,
			`main.yaml:4: node "c": collect without a terminator needs max_digits`,
			`main.yaml:5: node "q": queue node needs a queue name`,
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := ivr.Validate(parseFlows(t, map[string]string{"main": tc.flow}), enRu)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.want, strings.Split(err.Error(), "\n"))
		})
	}
}

func TestValidateTicketAndVoicemailFields(t *testing.T) {
	err := ivr.Validate(parseFlows(t, map[string]string{"main": `
start: t
nodes:
  t: {type: ticket_status}
  u:
    type: ticket_status
    var: ticket
    time_zone: Nowhere/Atlantis
    next: t
    unknown: gone
  v:
    type: voicemail
    max_length: 2h
`}), nil)
	require.Error(t, err)
	require.Equal(t, []string{
		`main.yaml:4: node "t": ticket_status node needs var (the variable holding the ticket number)`,
		`main.yaml:4: node "t": ticket_status node needs next`,
		`main.yaml:8: node "u": unknown time zone "Nowhere/Atlantis"`,
		`main.yaml:10: node "u": unknown "gone" is not a node of flow "main"`,
		`main.yaml:13: node "v": max_length 2h0m0s is more than 1h0m0s`,
	}, strings.Split(err.Error(), "\n"))
}

func TestValidateNewNodePrompts(t *testing.T) {
	const flow = `
start: ask
nodes:
  ask:
    type: collect
    prompt: ask
    var: serial
    check: luhn
    confirm: confirm-entry
    next: status
    exhausted: status
  status: {type: ticket_status, var: serial, next: vm}
  vm: {type: voicemail, prompt: leave-message}
`
	var all prompts
	for _, lang := range []string{"en", "ru"} {
		for _, p := range []string{"ask", "confirm-entry", "leave-message", "you-entered",
			"digit-0", "digit-1", "digit-2", "digit-3", "digit-4", "digit-5", "digit-6", "digit-7",
			"digit-8", "digit-9", "star", "hash", "ticket-status-is", "status-new", "status-open",
			"status-pending", "status-solved", "status-closed", "updated-today", "updated-yesterday",
			"updated", "days-ago", "ticket-unknown", "try-later"} {
			all = append(all, lang+":"+p)
		}
	}
	flows := parseFlows(t, map[string]string{"main": flow})
	require.NoError(t, ivr.Validate(flows, all))

	var some prompts
	for _, p := range all {
		switch p {
		case "ru:confirm-entry", "ru:you-entered", "ru:status-pending", "en:try-later", "en:leave-message":
		default:
			some = append(some, p)
		}
	}
	err := ivr.Validate(flows, some)
	require.Error(t, err)
	require.Equal(t, []string{
		`main.yaml:9: node "ask": prompt "confirm-entry" is missing in language "ru"`,
		`main.yaml:9: node "ask": read-back prompts missing in language "ru": you-entered`,
		`main.yaml:12: node "status": ticket_status prompts missing in language "en": try-later`,
		`main.yaml:12: node "status": ticket_status prompts missing in language "ru": status-pending`,
		`main.yaml:13: node "vm": prompt "leave-message" is missing in language "en"`,
	}, strings.Split(err.Error(), "\n"))
}

func TestValidateBuiltFlows(t *testing.T) {
	// Flows built in Go skip the loader's checks; Validate repeats them.
	flows := map[string]*ivr.Flow{"main": {
		Name: "main", Start: "ask", Pos: ivr.Pos{File: "main", Line: 1},
		Nodes: map[string]*ivr.Node{
			"ask": {ID: "ask", Type: ivr.TypeCollect, Pos: ivr.Pos{File: "main", Line: 2},
				Var: "x", Check: "crc", Next: "vm", Exhausted: "vm"},
			"vm": {ID: "vm", Type: ivr.TypeVoicemail, Pos: ivr.Pos{File: "main", Line: 3}, MaxLength: -time.Second},
		},
	}}
	err := ivr.Validate(flows, nil)
	require.Error(t, err)
	require.Equal(t, []string{
		`main:2: node "ask": unknown check "crc" (want luhn or mod11)`,
		`main:3: node "vm": max_length must not be negative`,
	}, strings.Split(err.Error(), "\n"))
}

func TestNewEngineRejectsBrokenFlows(t *testing.T) {
	_, err := ivr.NewEngine(parseFlows(t, map[string]string{"main": `
start: a
nodes:
  a: {type: play, prompt: never-recorded, next: a}
`}))
	require.EqualError(t, err, `main.yaml:4: loop never waits for input: a → a`)
	_, err = ivr.NewEngine(nil)
	require.EqualError(t, err, `flows: no flows defined`)
}

func TestValidateDemo(t *testing.T) {
	f, err := flowfile.Load(demoFS(), "demo.yaml")
	require.NoError(t, err)
	var all prompts
	for _, lang := range []string{"en", "ru"} {
		for _, p := range []string{"welcome", "choose-language", "main-menu", "enter-serial", "you-entered",
			"enter-ticket", "invalid", "no-input", "goodbye", "connecting", "closed",
			"digit-0", "digit-1", "digit-2", "digit-3", "digit-4", "digit-5", "digit-6", "digit-7",
			"digit-8", "digit-9", "star", "hash",
			"confirm-entry", "ticket-status-is", "status-new", "status-open", "status-pending",
			"status-solved", "status-closed", "updated-today", "updated-yesterday", "updated",
			"days-ago", "ticket-unknown", "try-later", "leave-message"} {
			all = append(all, lang+":"+p)
		}
	}
	require.NoError(t, ivr.Validate(map[string]*ivr.Flow{"demo": f}, all))
}

func TestPrintTree(t *testing.T) {
	f, err := flowfile.Load(demoFS(), "demo.yaml")
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, ivr.PrintTree(&b, f))
	out := b.String()
	require.True(t, strings.HasPrefix(out, "flow demo (demo.yaml:"), out)
	for _, want := range []string{
		"hours [hours] UTC: daily 00:00-24:00\n",
		"├─ open → welcome [play] prompt welcome\n",
		"[language] prompt choose-language 1=en 2=ru, default en\n",
		"├─ 2 → to-billing [queue] prompt connecting → queue billing, priority 0\n",
		"├─ empty → to-support (above)\n",
		"└─ exhausted → goodbye [hangup] prompt goodbye\n",
		"└─ closed → closed [voicemail] prompt closed,leave-message → voicemail for queue support, up to 2m0s\n",
		"enter-serial [collect] prompt enter-serial → $serial, ends with #, 8..20 digits, check luhn, may be empty, read back, confirm confirm-entry\n",
		"├─ next → ticket-status [ticket_status] ticket $ticket\n",
		"└─ unknown → main (above)\n",
	} {
		require.Contains(t, out, want)
	}
	for id := range f.Nodes {
		require.Contains(t, out, id+" [", "every node is printed once in full")
	}
}
