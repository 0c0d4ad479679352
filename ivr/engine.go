package ivr

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Channel is the caller's side of a live call, implemented by the switchboard.
type Channel interface {
	// Start begins playing the prompts in lang one after another and
	// returns at once, so the engine takes key presses while they play.
	Start(lang string, prompts ...string) (Playback, error)
	// Digits delivers the caller's key presses ('0'-'9', '*', '#'), in order.
	Digits() <-chan byte
}

// Playback is prompts playing on a Channel.
type Playback interface {
	// Done receives nil once every prompt has played, or the error that
	// ended the playback early; after Stop it may never receive.
	Done() <-chan error
	// Stop ends the playback; once it returns nothing more plays. It is
	// idempotent.
	Stop()
}

// Outcome is where a caller's trip through the IVR ended.
type Outcome struct {
	Kind     string // KindQueue, KindHangup, ...; empty when Run returned an error
	Queue    string // queue: where to route; voicemail: the queue the message belongs to ("" for none)
	Priority int
	Skills   []string
	// MaxLength is set with KindVoicemail: the longest message to record
	// (the node's max_length or DefaultVoicemailLength). The switchboard
	// plays a beep and records until '#', the hang-up or MaxLength.
	MaxLength time.Duration
	Language  string            // the prompt language in effect at the end
	Vars      map[string]string // collected variables, e.g. "serial", "ticket"
	Path      []string          // node ids visited, in order ("flow:node" outside the first flow)
	Steps     []Step            // the nodes of Path as the agent reads them
	Digits    string            // every digit the flow consumed, in order
}

// Step is one node a caller passed, with what an agent needs to read it:
// the node's Label, and for a collect or language node what it got (Value:
// the collected digits, "" when the caller skipped; the language chosen).
type Step struct {
	Node  string            // as in Outcome.Path
	Type  string            // the node's type
	Label map[string]string // Node.Label
	Var   string            // collect: the variable
	Value string
}

// TicketLookup finds a helpdesk ticket for a ticket_status node; the
// switchboard passes one in RunOptions.Tickets.
type TicketLookup interface {
	// TicketStatus returns the status of the ticket numbered as the caller
	// typed it. caller is RunOptions.Caller: the lookup decides whether
	// that caller may hear about the ticket, and answers found false when
	// not (so that numbers cannot be probed). An error means the helpdesk
	// could not be asked; the caller hears PromptTryLater.
	TicketStatus(ctx context.Context, number, caller string) (TicketStatus, bool, error)
}

// TicketStatus is what a ticket_status node reads to the caller.
type TicketStatus struct {
	Status  string    // one of TicketStatuses: new, open, pending, solved, closed
	Updated time.Time // the last change; zero when unknown (then it is not read)
}

// Event is one step of a run, reported through RunOptions.OnEvent. Kinds:
// "enter" (Detail: node type), "prompt" (Detail: "lang:name,name"),
// "digit", "bargein", "flush", "timeout", "invalid" (menu: the entry;
// collect: "<entry> <reason>", the reason one of "empty", "too short",
// "pattern", "check digit", "confirm" for a wrong key at the read-back),
// "confirm" (Detail: "1", "timeout" or "default": the input is accepted),
// "reenter" (Detail: the input the caller pressed 2 for), "exhausted",
// "var" (Detail: "name=value"), "language", "hours" (Detail:
// "open"/"closed"), "ticket" (Detail: "<number> <status>",
// "<number> unknown" or "<number> error: <message>"), "ignored" (a key
// press that is not a keypad key), "outcome".
type Event struct {
	Node, Kind, Detail string
}

// RunOptions tune one Run.
type RunOptions struct {
	Language string           // starting prompt language; default the flow's, then DefaultLanguage
	OnEvent  func(Event)      // called synchronously for each event; may be nil
	Now      func() time.Time // clock for hours and ticket_status nodes; default time.Now
	Caller   string           // the calling number, passed to Tickets
	// Tickets answers ticket_status nodes; with nil every ticket is unknown.
	Tickets TicketLookup
}

// Engine runs validated flows. It is immutable and safe for concurrent Runs.
// The flows given to NewEngine must not be changed afterwards.
type Engine struct {
	flows map[string]*Flow
	comp  *compiled
}

// NewEngine checks the structure of flows (everything Validate checks except
// prompts) and returns an engine for them.
func NewEngine(flows map[string]*Flow) (*Engine, error) {
	comp, problems := compile(flows, nil)
	if err := joinProblems(problems); err != nil {
		return nil, err
	}
	return &Engine{flows: flows, comp: comp}, nil
}

// Flows returns the names of the engine's flows, sorted.
func (e *Engine) Flows() []string { return sortedKeys(e.flows) }

// Run takes a caller through flow until it reaches an Outcome. When ctx ends
// (the caller hung up) it returns the Outcome so far with ctx.Err().
func (e *Engine) Run(ctx context.Context, flow string, ch Channel, o RunOptions) (Outcome, error) {
	f := e.flows[flow]
	if f == nil {
		return Outcome{}, fmt.Errorf("ivr: unknown flow %q", flow)
	}
	r := &run{
		e:      e,
		ch:     ch,
		o:      o,
		flow:   flow,
		digits: ch.Digits(),
		out:    Outcome{Language: firstOf(o.Language, f.Language, DefaultLanguage), Vars: map[string]string{}},
	}
	cur := ref{flow, f.Start}
	for range maxSteps {
		if err := ctx.Err(); err != nil {
			return r.out, err
		}
		n := e.flows[cur.flow].Nodes[cur.node]
		r.node = r.label(cur)
		r.out.Path = append(r.out.Path, r.node)
		r.event("enter", n.Type)
		target, err := r.step(ctx, n)
		r.out.Steps = append(r.out.Steps, r.stepView(n))
		if err != nil {
			r.out.Kind = ""
			return r.out, err
		}
		if r.out.Kind != "" {
			r.event("outcome", r.out.Kind)
			return r.out, nil
		}
		if cur, err = resolveIn(e.flows, cur.flow, target); err != nil {
			return r.out, fmt.Errorf("ivr: %s: %w", n.Pos, err)
		}
	}
	return r.out, fmt.Errorf("ivr: flow %q: gave up after %d steps", flow, maxSteps)
}

// run is the state of one Run: the caller's typed-ahead digits and the outcome so far.
type run struct {
	e      *Engine
	ch     Channel
	o      RunOptions
	flow   string      // the flow Run started in
	node   string      // label of the current node, for events
	digits <-chan byte // nil once the channel closed
	buf    []byte      // received, not yet consumed
	out    Outcome
}

func (r *run) event(kind, detail string) {
	if r.o.OnEvent != nil {
		r.o.OnEvent(Event{Node: r.node, Kind: kind, Detail: detail})
	}
}

// stepView is the Step of node n, which has just run.
func (r *run) stepView(n *Node) Step {
	st := Step{Node: r.node, Type: n.Type, Label: n.Label}
	switch n.Type {
	case TypeCollect:
		st.Var, st.Value = n.Var, r.out.Vars[n.Var]
	case TypeLanguage:
		st.Value = r.out.Language
	}
	return st
}

func (r *run) label(x ref) string {
	if x.flow == r.flow {
		return x.node
	}
	return x.String()
}

// step executes one node and returns the target to go to next; a terminal
// node sets r.out.Kind instead.
func (r *run) step(ctx context.Context, n *Node) (string, error) {
	if n.Flush {
		r.flush()
	}
	bargeIn := !n.NoBargeIn
	switch n.Type {
	case TypePlay:
		return n.Next, r.play(ctx, r.out.Language, n.Prompts, bargeIn)
	case TypeSayDigits:
		prompts := append(slices.Clone(n.Prompts), spell(r.out.Vars[n.Var])...)
		return n.Next, r.play(ctx, r.out.Language, prompts, bargeIn)
	case TypeGoto:
		return n.Next, nil
	case TypeHours:
		if r.e.comp.schedules[n].open(r.now()) {
			r.event("hours", "open")
			return n.Open, nil
		}
		r.event("hours", "closed")
		return n.Closed, nil
	case TypeMenu:
		return r.menu(ctx, n)
	case TypeCollect:
		return r.collect(ctx, n)
	case TypeLanguage:
		return r.language(ctx, n)
	case TypeQueue:
		if err := r.play(ctx, r.out.Language, n.Prompts, false); err != nil {
			return "", err
		}
		r.out.Kind, r.out.Queue, r.out.Priority = KindQueue, n.Queue, n.Priority
		r.out.Skills = slices.Clone(n.Skills)
		return "", nil
	case TypeHangup:
		if err := r.play(ctx, r.out.Language, n.Prompts, false); err != nil {
			return "", err
		}
		r.out.Kind = KindHangup
		return "", nil
	case TypeTicketStatus:
		return r.ticketStatus(ctx, n)
	case TypeVoicemail:
		if err := r.play(ctx, r.out.Language, n.Prompts, false); err != nil {
			return "", err
		}
		r.out.Kind, r.out.Queue, r.out.MaxLength = KindVoicemail, n.Queue, n.maxLength()
		return "", nil
	}
	return "", fmt.Errorf("ivr: %s: node %q: unknown type %q", n.Pos, n.ID, n.Type)
}

// status is how an attempt to read the caller's input ended.
type status int

const (
	gotInput status = iota
	timedOut
	invalid
)

func (r *run) menu(ctx context.Context, n *Node) (string, error) {
	bargeIn := !n.NoBargeIn
	for try := 1; ; try++ {
		if err := r.play(ctx, r.out.Language, n.Prompts, bargeIn); err != nil {
			return "", err
		}
		entry, st, err := r.readOption(ctx, n)
		if err != nil {
			return "", err
		}
		if st == gotInput {
			return n.Options[entry], nil
		}
		if err := r.failed(ctx, n, st, entry); err != nil {
			return "", err
		}
		if try >= n.tries() {
			r.event("exhausted", "")
			return n.Exhausted, nil
		}
	}
}

// now reads the run's clock.
func (r *run) now() time.Time {
	if r.o.Now != nil {
		return r.o.Now()
	}
	return time.Now()
}

// failed reports an invalid or missing answer and plays the matching prompt;
// detail is the invalid event's Detail.
func (r *run) failed(ctx context.Context, n *Node, st status, detail string) error {
	if st == timedOut {
		r.event("timeout", "")
		return r.play(ctx, r.out.Language, n.TimeoutPrompts, !n.NoBargeIn)
	}
	r.event("invalid", detail)
	r.flush() // what follows a wrong key was typed against the wrong menu
	return r.play(ctx, r.out.Language, n.InvalidPrompts, !n.NoBargeIn)
}

// readOption reads digits until they name exactly one option of n, cannot
// name any, or the caller stops pressing keys.
func (r *run) readOption(ctx context.Context, n *Node) (string, status, error) {
	entry := ""
	for {
		wait := n.timeout()
		if entry != "" {
			wait = n.interDigit()
		}
		d, ok, err := r.nextDigit(ctx, wait)
		if err != nil {
			return entry, invalid, err
		}
		if !ok {
			if entry == "" {
				return "", timedOut, nil
			}
			if _, exact := n.Options[entry]; exact {
				return entry, gotInput, nil
			}
			return entry, invalid, nil
		}
		entry += string(d)
		_, exact := n.Options[entry]
		longer := false
		for k := range n.Options {
			if len(k) > len(entry) && strings.HasPrefix(k, entry) {
				longer = true
				break
			}
		}
		switch {
		case exact && !longer:
			return entry, gotInput, nil
		case !exact && !longer:
			return entry, invalid, nil
		}
	}
}

func (r *run) language(ctx context.Context, n *Node) (string, error) {
	langs := n.languageOrder()
	chosen := firstOf(n.Default, langs[0])
	for try := 1; ; try++ {
		for _, lang := range langs {
			if err := r.play(ctx, lang, n.Prompts, !n.NoBargeIn); err != nil {
				return "", err
			}
		}
		entry, st, err := r.readOption(ctx, n)
		if err != nil {
			return "", err
		}
		if st == gotInput {
			chosen = n.Options[entry]
			break
		}
		if st == timedOut {
			r.event("timeout", "")
			break
		}
		if err := r.failed(ctx, n, st, entry); err != nil {
			return "", err
		}
		if try >= n.tries() {
			r.event("exhausted", "")
			break
		}
	}
	r.out.Language = chosen
	r.event("language", chosen)
	return n.Next, nil
}

// collect reads an input into n.Var. An input that fails validation uses
// up a try; so does one the caller asks to enter again at the read-back.
// After the last try the node goes to Exhausted without setting the var.
func (r *run) collect(ctx context.Context, n *Node) (string, error) {
	for try := 1; ; try++ {
		if err := r.play(ctx, r.out.Language, n.Prompts, !n.NoBargeIn); err != nil {
			return "", err
		}
		value, st, err := r.readInput(ctx, n)
		if err != nil {
			return "", err
		}
		detail := value
		if st == gotInput {
			reason := r.refuse(n, value)
			switch {
			case reason == "" && value == "":
				r.setVar(n.Var, "")
				return firstOf(n.Empty, n.Next), nil
			case reason == "" && n.Confirm == "":
				r.setVar(n.Var, value)
				return n.Next, nil
			case reason == "":
				ok, err := r.confirm(ctx, n, value)
				if err != nil {
					return "", err
				}
				if ok {
					r.setVar(n.Var, value)
					return n.Next, nil
				}
				if try >= n.tries() {
					r.event("exhausted", "")
					return n.Exhausted, nil
				}
				continue
			}
			st, detail = invalid, strings.TrimPrefix(value+" "+reason, " ")
		}
		if err := r.failed(ctx, n, st, detail); err != nil {
			return "", err
		}
		if try >= n.tries() {
			r.event("exhausted", "")
			return n.Exhausted, nil
		}
	}
}

// refuse says why a collected value is not acceptable ("empty", "too
// short", "pattern", "check digit"), or "" when it is.
func (r *run) refuse(n *Node, value string) string {
	switch {
	case value == "":
		if !n.AllowEmpty && n.Empty == "" {
			return "empty"
		}
	case len(value) < n.MinDigits:
		return "too short"
	case r.e.comp.patterns[n] != nil && !r.e.comp.patterns[n].MatchString(value):
		return "pattern"
	case n.Check != "" && !CheckDigits(n.Check, value):
		return "check digit"
	}
	return ""
}

// confirm reads value back to the caller and asks n.Confirm: 1, or no key
// within the node's timeout, accepts; 2 asks to enter it again (false). A
// wrong key plays the invalid prompt and asks again; after the node's
// tries of those the value is accepted. The collect's terminator right
// after the input (typed after max_digits were reached) is skipped.
func (r *run) confirm(ctx context.Context, n *Node, value string) (bool, error) {
	readBack := append(append([]string{PromptYouEntered}, spell(value)...), n.Confirm)
	if term := n.terminator(); term != 0 && len(value) == n.MaxDigits {
		r.drain()
		if len(r.buf) > 0 && r.buf[0] == term {
			r.buf = r.buf[1:]
			r.out.Digits += string(term)
		}
	}
	for ask := 1; ; ask++ {
		if err := r.play(ctx, r.out.Language, readBack, !n.NoBargeIn); err != nil {
			return false, err
		}
		d, ok, err := r.nextDigit(ctx, n.timeout())
		switch {
		case err != nil:
			return false, err
		case !ok:
			r.event("confirm", "timeout")
			return true, nil
		case d == '1':
			r.event("confirm", "1")
			return true, nil
		case d == '2':
			r.event("reenter", value)
			return false, nil
		}
		if err := r.failed(ctx, n, invalid, string(d)+" confirm"); err != nil {
			return false, err
		}
		if ask >= n.tries() {
			r.event("confirm", "default")
			return true, nil
		}
	}
}

func (r *run) setVar(name, value string) {
	r.out.Vars[name] = value
	r.event("var", name+"="+value)
}

// readInput reads digits until the terminator, max_digits, or the caller
// stops pressing keys.
func (r *run) readInput(ctx context.Context, n *Node) (string, status, error) {
	var got []byte
	term := n.terminator()
	for {
		wait := n.timeout()
		if len(got) > 0 {
			wait = n.interDigit()
		}
		d, ok, err := r.nextDigit(ctx, wait)
		if err != nil {
			return string(got), invalid, err
		}
		switch {
		case !ok && len(got) == 0:
			return "", timedOut, nil
		case !ok, term != 0 && d == term:
			return string(got), gotInput, nil
		}
		got = append(got, d)
		if n.MaxDigits > 0 && len(got) >= n.MaxDigits {
			return string(got), gotInput, nil
		}
	}
}

// play plays prompts in lang while taking the caller's key presses into the
// buffer. With bargeIn the prompt stops at the first key, and is not started
// at all when keys are already waiting.
func (r *run) play(ctx context.Context, lang string, prompts []string, bargeIn bool) error {
	if len(prompts) == 0 {
		return nil
	}
	r.drain()
	if bargeIn && len(r.buf) > 0 {
		r.event("bargein", "skipped "+strings.Join(prompts, ","))
		return nil
	}
	r.event("prompt", lang+":"+strings.Join(prompts, ","))
	pb, err := r.ch.Start(lang, prompts...)
	if err != nil {
		return fmt.Errorf("ivr: play %s %s: %w", lang, strings.Join(prompts, ","), err)
	}
	defer pb.Stop()
	for {
		select {
		case err := <-pb.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				return fmt.Errorf("ivr: play %s %s: %w", lang, strings.Join(prompts, ","), err)
			}
			return nil
		case d, ok := <-r.digits:
			if !ok {
				r.digits = nil
				continue
			}
			if r.receive(d) && bargeIn {
				r.event("bargein", string(d))
				return nil // the deferred Stop cuts the prompt short
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// receive buffers one key press; it reports false for a byte that is not a keypad key.
func (r *run) receive(d byte) bool {
	if !strings.ContainsRune("0123456789*#ABCD", rune(d)) {
		r.event("ignored", fmt.Sprintf("%q", d))
		return false
	}
	r.buf = append(r.buf, d)
	r.event("digit", string(d))
	return true
}

// nextDigit consumes the next key press, waiting up to wait for one; ok is
// false when none came in time.
func (r *run) nextDigit(ctx context.Context, wait time.Duration) (d byte, ok bool, err error) {
	var timer *time.Timer
	for len(r.buf) == 0 {
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case d, open := <-r.digits:
			if !open {
				r.digits = nil
				continue
			}
			r.receive(d)
		case <-timer.C:
			return 0, false, nil
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
	}
	d = r.buf[0]
	r.buf = r.buf[1:]
	r.out.Digits += string(d)
	return d, true, nil
}

// flush drops every key press received so far, including any still queued
// in the channel.
func (r *run) flush() {
	r.drain()
	if len(r.buf) > 0 {
		r.event("flush", string(r.buf))
		r.buf = r.buf[:0]
	}
}

// drain buffers every key press already queued in the channel, without waiting.
func (r *run) drain() {
	for r.digits != nil {
		select {
		case d, open := <-r.digits:
			if !open {
				r.digits = nil
				return
			}
			r.receive(d)
		default:
			return
		}
	}
}

// spell turns "12#" into the prompts "digit-1", "digit-2", "hash".
func spell(value string) []string {
	out := make([]string, 0, len(value))
	for _, c := range value {
		switch {
		case c >= '0' && c <= '9':
			out = append(out, "digit-"+string(c))
		case c == '*':
			out = append(out, "star")
		case c == '#':
			out = append(out, "hash")
		}
	}
	return out
}

// firstOf returns the first non-empty string.
func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
