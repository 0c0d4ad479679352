// Package ivr is the hotline's interactive voice response: the flow model,
// its validation, and an interpreter that runs a flow against a Channel (a
// live call) until the call reaches an Outcome. It imports only the standard
// library; YAML loading lives in ivr/flowfile and media in the switchboard.
package ivr

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Node types understood by the engine.
const (
	TypePlay      = "play"       // play prompts, then go to Next
	TypeMenu      = "menu"       // play a prompt and choose Options[digits]
	TypeCollect   = "collect"    // collect digits into Var
	TypeSayDigits = "say_digits" // play Prompts, then read Var back digit by digit
	TypeHours     = "hours"      // branch on a weekly schedule: Open or Closed
	TypeLanguage  = "language"   // choose the prompt language by digit
	TypeGoto      = "goto"       // jump to a node, or to "flow:node" in another flow
	TypeQueue     = "queue"      // end: route the call to a queue
	TypeHangup    = "hangup"     // end: optional goodbye prompt, then hang up
	// TypeTicketStatus reads the status of the ticket numbered by Var to the
	// caller (RunOptions.Tickets looks it up), then goes to Next, or to
	// Unknown when there is no such ticket for the caller.
	TypeTicketStatus = "ticket_status"
	// TypeVoicemail is an end node: it plays its prompt and ends the run
	// with a KindVoicemail Outcome. Recording is the switchboard's job after
	// Run returns: it plays a beep and records until the caller presses '#',
	// hangs up, or Outcome.MaxLength passes.
	TypeVoicemail = "voicemail"
)

// Outcome kinds.
const (
	KindQueue     = "queue"
	KindHangup    = "hangup"
	KindVoicemail = "voicemail"
	KindCallback  = "callback"
)

// Defaults applied when a node leaves a field at its zero value.
const (
	DefaultTimeout    = 5 * time.Second // first-digit timeout of menu, collect, language
	DefaultInterDigit = 3 * time.Second // wait between digits of a multi-digit entry
	DefaultTries      = 3               // menu and collect attempts before Exhausted
	DefaultTerminator = "#"             // collect's end-of-input key
	DefaultLanguage   = "en"            // when neither RunOptions nor the flow name one
	maxSteps          = 10000           // node transitions per Run before giving up
	// DefaultVoicemailLength bounds a message when a voicemail node sets no max_length.
	DefaultVoicemailLength = 2 * time.Minute
	// MaxVoicemailLength is the longest max_length a voicemail node may set.
	MaxVoicemailLength = time.Hour
)

// Pos is where something was defined: a file and a 1-based line.
type Pos struct {
	File string
	Line int
}

// String returns "file:line", or just the file when the line is unknown.
func (p Pos) String() string {
	if p.Line <= 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Flow is one named IVR flow: a graph of nodes entered at Start.
type Flow struct {
	Name     string
	Start    string
	Language string // default prompt language when RunOptions.Language is empty
	Nodes    map[string]*Node
	Pos      Pos
	// FieldPos holds the position of each flow-level key ("start", ...), when known.
	FieldPos map[string]Pos
}

// Node is one step of a flow. Which fields matter depends on Type; the rest
// are ignored by the engine (the loader rejects them).
type Node struct {
	ID   string
	Type string
	Pos  Pos
	// FieldPos holds the position of each key of the node ("next",
	// "options.1", "schedule.0", ...) so that errors point at the exact line.
	FieldPos map[string]Pos

	// Label is what the agent reads for a caller who passed this node, by
	// language code ("" for every language): "Technical support". nil: the
	// flow gives none (the agent page shows the node id; hotline check
	// warns); a label with no text hides the node from the agent.
	Label map[string]string

	Prompts   []string // prompts played on entry (hangup: the goodbye)
	Next      string   // play, say_digits, collect, language; goto's target
	Flush     bool     // drop digits typed before this node
	NoBargeIn bool     // keep playing the prompt when a digit arrives

	// menu, collect and language
	Options        map[string]string // menu: digits → node; language: digit → language code
	Timeout        time.Duration     // wait for the first digit
	InterDigit     time.Duration     // wait between digits
	Tries          int               // attempts before Exhausted
	InvalidPrompts []string
	TimeoutPrompts []string
	Exhausted      string // where to go when the tries are used up

	// collect and say_digits
	Var        string
	MinDigits  int
	MaxDigits  int    // 0: no limit, the terminator ends input
	Terminator string // "" means "#"; "none" means no terminator
	Pattern    string // regexp the whole input must match
	AllowEmpty bool   // the terminator alone is an accepted (empty) answer
	Empty      string // where an empty answer goes; implies AllowEmpty; default Next
	// Check names the check-digit algorithm the input's last digit must
	// satisfy (CheckLuhn or CheckMod11; see CheckDigits); "" checks nothing.
	Check string
	// Confirm, when set, is the prompt asking the caller to confirm a valid
	// non-empty input ("press 1 to confirm, 2 to enter it again"): it is
	// played after PromptYouEntered and the input digit by digit. 1 or no
	// key within Timeout accepts; 2 enters it again and uses up a try.
	Confirm string

	// ticket_status (also uses Var and Next)
	Unknown string // where an unknown ticket goes; default Next

	// voicemail (also uses Queue)
	MaxLength time.Duration // longest message; 0 means DefaultVoicemailLength

	// hours; ticket_status (the zone "today" is in; default the flow's
	// first hours node's, then UTC)
	TimeZone string   // IANA name, e.g. "Europe/Berlin"
	Schedule []string // "mon-fri 09:00-18:00", "sat,sun 10:00-14:00", "daily 00:00-24:00"
	Holidays []string // "2026-12-25": closed all day
	Open     string
	Closed   string

	// language
	Default string // language chosen on timeout or after the tries

	// queue; voicemail (the queue the message belongs to, optional)
	Queue    string
	Priority int
	Skills   []string
}

// at returns the position of a node key, falling back to the node itself.
func (n *Node) at(key string) Pos {
	if p, ok := n.FieldPos[key]; ok {
		return p
	}
	return n.Pos
}

// edge is one possible transition out of a node.
type edge struct {
	label  string // "next", "1", "timeout", ...
	key    string // FieldPos key of the reference
	target string // node id or "flow:node"
}

// edges lists every node a node can lead to, in a stable order.
func (n *Node) edges() []edge {
	var out []edge
	add := func(label, key, target string) {
		if target != "" {
			out = append(out, edge{label: label, key: key, target: target})
		}
	}
	switch n.Type {
	case TypePlay, TypeSayDigits, TypeLanguage:
		add("next", "next", n.Next)
	case TypeGoto:
		add("goto", "next", n.Next)
	case TypeMenu:
		for _, k := range sortedKeys(n.Options) {
			add(k, "options."+k, n.Options[k])
		}
		add("exhausted", "exhausted", n.Exhausted)
	case TypeCollect:
		add("next", "next", n.Next)
		add("empty", "empty", n.Empty)
		add("exhausted", "exhausted", n.Exhausted)
	case TypeHours:
		add("open", "open", n.Open)
		add("closed", "closed", n.Closed)
	case TypeTicketStatus:
		add("next", "next", n.Next)
		add("unknown", "unknown", n.Unknown)
	}
	return out
}

// waitsForInput reports whether a node stops for the caller's digits, which
// is what makes a loop through it safe.
func (n *Node) waitsForInput() bool {
	switch n.Type {
	case TypeMenu, TypeCollect, TypeLanguage:
		return true
	}
	return false
}

// terminator returns collect's end-of-input key, or 0 for none.
func (n *Node) terminator() byte {
	switch n.Terminator {
	case "":
		return DefaultTerminator[0]
	case "none":
		return 0
	}
	return n.Terminator[0]
}

func (n *Node) timeout() time.Duration {
	if n.Timeout > 0 {
		return n.Timeout
	}
	return DefaultTimeout
}

func (n *Node) interDigit() time.Duration {
	if n.InterDigit > 0 {
		return n.InterDigit
	}
	return DefaultInterDigit
}

func (n *Node) maxLength() time.Duration {
	if n.MaxLength > 0 {
		return n.MaxLength
	}
	return DefaultVoicemailLength
}

func (n *Node) tries() int {
	if n.Tries > 0 {
		return n.Tries
	}
	return DefaultTries
}

// languageOrder returns a language node's codes in digit order, each once.
func (n *Node) languageOrder() []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range sortedKeys(n.Options) {
		if code := n.Options[k]; !seen[code] {
			seen[code] = true
			out = append(out, code)
		}
	}
	return out
}

// splitTarget splits "flow:node" into its parts; a plain id has no flow.
func splitTarget(target string) (flow, node string) {
	if i := strings.IndexByte(target, ':'); i >= 0 {
		return target[:i], target[i+1:]
	}
	return "", target
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
