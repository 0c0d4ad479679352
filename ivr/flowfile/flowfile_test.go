package flowfile_test

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/ivr/flowfile"
	"github.com/stretchr/testify/require"
)

func TestLoadDemo(t *testing.T) {
	f, err := flowfile.Load(os.DirFS("../../internal/demo/flows"), "demo.yaml")
	require.NoError(t, err)
	require.Equal(t, "demo", f.Name)
	require.Equal(t, "hours", f.Start)
	require.Equal(t, "en", f.Language)

	main := f.Nodes["main"]
	require.Equal(t, ivr.TypeMenu, main.Type)
	require.Equal(t, []string{"main-menu"}, main.Prompts)
	require.Equal(t, map[string]string{"1": "enter-serial", "2": "to-billing", "3": "enter-ticket", "0": "to-operator"}, main.Options)
	require.Equal(t, 6*time.Second, main.Timeout)
	require.Equal(t, 3, main.Tries)
	require.Equal(t, "goodbye", main.Exhausted)

	serial := f.Nodes["enter-serial"]
	require.Equal(t, "serial", serial.Var)
	require.Equal(t, "to-support", serial.Empty)
	require.Equal(t, "#", serial.Terminator)
	require.Equal(t, ivr.CheckLuhn, serial.Check)
	require.Equal(t, "confirm-entry", serial.Confirm)
	require.Equal(t, 8, serial.MinDigits)
	require.Equal(t, "to-support", serial.Exhausted)

	status := f.Nodes["ticket-status"]
	require.Equal(t, ivr.TypeTicketStatus, status.Type)
	require.Equal(t, "ticket", status.Var)
	require.Equal(t, "ticket-status", f.Nodes["enter-ticket"].Next)

	closed := f.Nodes["closed"]
	require.Equal(t, ivr.TypeVoicemail, closed.Type)
	require.Equal(t, "support", closed.Queue)
	require.Equal(t, 2*time.Minute, closed.MaxLength)

	lang := f.Nodes["choose-language"]
	require.Equal(t, map[string]string{"1": "en", "2": "ru"}, lang.Options)
	require.Equal(t, "en", lang.Default)

	// Positions point at the file's lines.
	data, err := os.ReadFile("../../internal/demo/flows/demo.yaml")
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	require.Equal(t, "  main:", lines[main.Pos.Line-1])
	require.Equal(t, `      "2": to-billing        # billing and subscriptions`, lines[main.FieldPos["options.2"].Line-1])
	require.Equal(t, "demo.yaml", main.Pos.File)
}

func TestLoadAllNamesFlowsByKey(t *testing.T) {
	fsys := fstest.MapFS{
		"a.yaml": {Data: []byte("name: ignored\nstart: x\nnodes:\n  x: {type: hangup}\n")},
		"b.yaml": {Data: []byte("start: y\nnodes:\n  y: {type: goto, next: \"front:x\"}\n")},
	}
	flows, err := flowfile.LoadAll(fsys, map[string]string{"front": "a.yaml", "back": "b.yaml"})
	require.NoError(t, err)
	require.Equal(t, "front", flows["front"].Name)
	require.Equal(t, "back", flows["back"].Name)
	_, err = ivr.NewEngine(flows)
	require.NoError(t, err)

	_, err = flowfile.LoadAll(fsys, map[string]string{"x": "missing.yaml", "y": "a.yaml"})
	require.ErrorContains(t, err, "missing.yaml: open missing.yaml: file does not exist")
}

func TestLoadErrors(t *testing.T) {
	cases := map[string]struct {
		text string
		want []string
	}{
		"yaml syntax": {"start: a\nnodes:\n\ta: {type: hangup}\n", []string{
			"f.yaml:3: found character that cannot start any token"}},
		"empty file": {"", []string{"f.yaml: empty flow file"}},
		"not a map":  {"- a\n- b\n", []string{"f.yaml:1: a flow file must be a mapping with start and nodes"}},
		"unknown top": {"start: a\nnode:\n  a: {type: hangup}\n", []string{
			`f.yaml:2: unknown key "node" (want name, description, start, language, nodes)`,
			`f.yaml:1: flow needs "nodes"`}},
		"key of another type": {"start: a\nnodes:\n  a:\n    type: play\n    options: {\"1\": a}\n", []string{
			`f.yaml:5: node "a": key "options" does not apply to a play node`}},
		"unknown key, unknown type": {"start: a\nnodes:\n  a: {type: dance, tempo: 3}\n", []string{
			`f.yaml:3: node "a": unknown key "tempo"`}},
		"duplicate node": {"start: a\nnodes:\n  a: {type: hangup}\n  a: {type: hangup}\n", []string{
			`f.yaml:4: nodes: duplicate key "a"`}},
		"bad values": {`start: m
nodes:
  m:
    type: menu
    timeout: soon
    tries: many
    barge_in: maybe
    prompt: {a: b}
`, []string{
			`f.yaml:5: node "m": timeout: "soon" is not a duration (e.g. 5s, 1.5s, 500ms)`,
			`f.yaml:6: node "m": tries: "many" is not a whole number`,
			`f.yaml:7: node "m": barge_in: "maybe" is not true or false`,
			`f.yaml:8: node "m": prompt must be a single value`,
		}},
		"bad node id": {"start: a\nnodes:\n  \"a:b\": {type: hangup}\n", []string{
			`f.yaml:3: bad node id "a:b" (no spaces or colons)`}},
		"bad serial and voicemail values": {`start: c
nodes:
  c:
    type: collect
    var: serial
    check: crc32
    confirm: [a, b]
    next: v
    exhausted: v
  v:
    type: voicemail
    max_length: -30s
  w:
    type: voicemail
    max_length: 0
  x:
    type: voicemail
    max_length: forever
`, []string{
			`f.yaml:6: node "c": check: unknown check "crc32" (want luhn or mod11)`,
			`f.yaml:7: node "c": confirm must be a single value`,
			`f.yaml:12: node "v": max_length: "-30s" must not be negative`,
			`f.yaml:15: node "w": max_length: must be more than zero`,
			`f.yaml:18: node "x": max_length: "forever" is not a duration (e.g. 5s, 1.5s, 500ms)`,
		}},
		"keys of the new types elsewhere": {`start: m
nodes:
  m:
    type: menu
    check: luhn
  t:
    type: ticket_status
    var: ticket
    max_length: 1m
  v:
    type: voicemail
    unknown: m
`, []string{
			`f.yaml:5: node "m": key "check" does not apply to a menu node`,
			`f.yaml:9: node "t": key "max_length" does not apply to a ticket_status node`,
			`f.yaml:12: node "v": key "unknown" does not apply to a voicemail node`,
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := flowfile.Parse("f.yaml", []byte(tc.text))
			require.Error(t, err)
			require.Equal(t, tc.want, strings.Split(err.Error(), "\n"))
		})
	}
}

func TestDurationsAndLists(t *testing.T) {
	f, err := flowfile.Parse("f.yaml", []byte(`start: c
nodes:
  c:
    type: collect
    prompt: [a, b]
    var: x
    timeout: 2.5
    inter_digit: 750ms
    barge_in: false
    flush: yes
    next: c
    exhausted: c
`))
	require.NoError(t, err)
	c := f.Nodes["c"]
	require.Equal(t, []string{"a", "b"}, c.Prompts)
	require.Equal(t, 2500*time.Millisecond, c.Timeout)
	require.Equal(t, 750*time.Millisecond, c.InterDigit)
	require.True(t, c.NoBargeIn)
	require.True(t, c.Flush)
	require.Equal(t, "f", f.Name)
}

func TestSerialTicketAndVoicemailFields(t *testing.T) {
	f, err := flowfile.Parse("f.yaml", []byte(`start: c
nodes:
  c:
    type: collect
    var: serial
    check: mod11
    confirm: confirm-entry
    next: t
    exhausted: v
  t:
    type: ticket_status
    prompt: one-moment
    var: serial
    time_zone: Europe/Berlin
    next: v
    unknown: v
  v:
    type: voicemail
    prompt: leave-message
    queue: support
    max_length: 1m30s
`))
	require.NoError(t, err)
	c, tk, v := f.Nodes["c"], f.Nodes["t"], f.Nodes["v"]
	require.Equal(t, ivr.CheckMod11, c.Check)
	require.Equal(t, "confirm-entry", c.Confirm)
	require.Equal(t, ivr.TypeTicketStatus, tk.Type)
	require.Equal(t, "serial", tk.Var)
	require.Equal(t, "v", tk.Next)
	require.Equal(t, "v", tk.Unknown)
	require.Equal(t, "Europe/Berlin", tk.TimeZone)
	require.Equal(t, []string{"one-moment"}, tk.Prompts)
	require.Equal(t, ivr.TypeVoicemail, v.Type)
	require.Equal(t, "support", v.Queue)
	require.Equal(t, 90*time.Second, v.MaxLength)
	require.Equal(t, 21, v.FieldPos["max_length"].Line)
	require.Equal(t, 7, c.FieldPos["confirm"].Line)
	_, err = ivr.NewEngine(map[string]*ivr.Flow{"f": f})
	require.NoError(t, err)
}

func TestTicketStatusWithoutVar(t *testing.T) {
	f, err := flowfile.Parse("f.yaml", []byte("start: a\nnodes:\n  a: {type: goto, next: t}\n  t:\n    type: ticket_status\n    next: a\n"))
	require.NoError(t, err, "required keys are Validate's business")
	err = ivr.Validate(map[string]*ivr.Flow{"f": f}, nil)
	require.EqualError(t, err, `f.yaml:4: node "t": ticket_status node needs var (the variable holding the ticket number)`)
}

func FuzzLoad(f *testing.F) {
	demo, err := os.ReadFile("../../internal/demo/flows/demo.yaml")
	require.NoError(f, err)
	f.Add(demo)
	f.Add([]byte("start: a\nnodes:\n  a: {type: hangup}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := flowfile.Parse("fuzz.yaml", data)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "fuzz.yaml"), err.Error())
			return
		}
		// Whatever loads must validate (or be refused) without panicking.
		_ = ivr.Validate(map[string]*ivr.Flow{"fuzz": fl}, nil)
		if e, err := ivr.NewEngine(map[string]*ivr.Flow{"fuzz": fl}); err == nil {
			require.NotNil(t, e)
		}
		require.NoError(t, ivr.PrintTree(new(strings.Builder), fl))
	})
}
