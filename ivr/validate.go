package ivr

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// PromptSet says which recorded prompts exist, per language. The switchboard
// implements it over the prompt files loaded at startup.
type PromptSet interface {
	Has(lang, prompt string) bool
	Languages() []string
}

// Problem is one thing wrong with a flow, at a position.
type Problem struct {
	Pos Pos
	Msg string
}

// Error returns "file:line: message".
func (p *Problem) Error() string { return p.Pos.String() + ": " + p.Msg }

// Validate checks flows (keyed by flow name) and returns every problem found,
// each a *Problem reading "file:line: message", joined with errors.Join; nil
// when all is well. With a nil PromptSet the prompt checks are skipped.
func Validate(flows map[string]*Flow, prompts PromptSet) error {
	_, problems := compile(flows, prompts)
	return joinProblems(problems)
}

func joinProblems(problems []*Problem) error {
	if len(problems) == 0 {
		return nil
	}
	slices.SortStableFunc(problems, func(a, b *Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line))
	})
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// ref names one node of one flow.
type ref struct{ flow, node string }

func (r ref) String() string { return r.flow + ":" + r.node }

// compiled holds what the engine needs beyond the flow data itself.
type compiled struct {
	patterns  map[*Node]*regexp.Regexp
	schedules map[*Node]*schedule
	zones     map[*Node]*time.Location // ticket_status: the zone days are counted in
}

// checker accumulates problems while compiling a set of flows.
type checker struct {
	flows    map[string]*Flow
	prompts  PromptSet
	problems []*Problem
	out      compiled
}

func (c *checker) add(pos Pos, format string, args ...any) {
	c.problems = append(c.problems, &Problem{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// compile validates flows and compiles their patterns and schedules.
func compile(flows map[string]*Flow, prompts PromptSet) (*compiled, []*Problem) {
	c := &checker{
		flows:   flows,
		prompts: prompts,
		out: compiled{
			patterns:  map[*Node]*regexp.Regexp{},
			schedules: map[*Node]*schedule{},
			zones:     map[*Node]*time.Location{},
		},
	}
	if len(flows) == 0 {
		c.add(Pos{File: "flows"}, "no flows defined")
	}
	for _, name := range sortedKeys(flows) {
		c.checkFlow(name, flows[name])
	}
	if len(c.problems) == 0 {
		// Graph checks only make sense once every reference resolves.
		c.checkReachable()
		c.checkLoops()
	}
	return &c.out, c.problems
}

func (c *checker) checkFlow(name string, f *Flow) {
	if f == nil {
		c.add(Pos{File: name}, "flow %q is empty", name)
		return
	}
	if len(f.Nodes) == 0 {
		c.add(f.Pos, "flow %q has no nodes", name)
	}
	startPos := f.Pos
	if p, ok := f.FieldPos["start"]; ok {
		startPos = p
	}
	if f.Start == "" {
		c.add(startPos, "flow %q has no start node", name)
	} else if _, ok := f.Nodes[f.Start]; !ok {
		c.add(startPos, "start node %q is not a node of flow %q", f.Start, name)
	}
	if f.Language != "" {
		c.checkLanguage(f.Pos, "flow "+quote(name), f.Language)
	}
	for _, id := range nodeOrder(f) {
		c.checkNode(name, id, f.Nodes[id])
	}
}

func (c *checker) checkNode(flow, id string, n *Node) {
	if n == nil {
		c.add(Pos{File: flow}, "node %q is empty", id)
		return
	}
	where := "node " + quote(id)
	need := func(value, what string) {
		if value == "" {
			c.add(n.Pos, "%s: %s node needs %s", where, n.Type, what)
		}
	}
	switch n.Type {
	case TypePlay:
		if len(n.Prompts) == 0 {
			c.add(n.Pos, "%s: play node needs a prompt", where)
		}
		need(n.Next, "next")
	case TypeMenu:
		if len(n.Prompts) == 0 {
			c.add(n.Pos, "%s: menu node needs a prompt", where)
		}
		c.checkOptions(where, n, false)
		need(n.Exhausted, "exhausted (where to go after the last try)")
		c.checkTiming(where, n)
	case TypeCollect:
		need(n.Var, "var")
		need(n.Next, "next")
		need(n.Exhausted, "exhausted (where to go after the last try)")
		c.checkCollect(where, n)
		c.checkTiming(where, n)
	case TypeSayDigits:
		need(n.Var, "var")
		need(n.Next, "next")
	case TypeHours:
		need(n.Open, "open")
		need(n.Closed, "closed")
		c.checkHours(where, n)
	case TypeLanguage:
		c.checkOptions(where, n, true)
		need(n.Next, "next")
		if n.Default != "" {
			c.checkLanguage(n.at("default"), where, n.Default)
		}
		c.checkTiming(where, n)
	case TypeGoto:
		need(n.Next, "a target")
	case TypeQueue:
		need(n.Queue, "a queue name")
	case TypeHangup:
	case TypeTicketStatus:
		need(n.Var, "var (the variable holding the ticket number)")
		need(n.Next, "next")
		c.checkTicketZone(flow, where, n)
	case TypeVoicemail:
		if n.MaxLength < 0 {
			c.add(n.at("max_length"), "%s: max_length must not be negative", where)
		} else if n.MaxLength > MaxVoicemailLength {
			c.add(n.at("max_length"), "%s: max_length %s is more than %s", where, n.MaxLength, MaxVoicemailLength)
		}
	case "":
		c.add(n.Pos, "%s: missing type", where)
		return
	default:
		c.add(n.at("type"), "%s: unknown type %q (want play, menu, collect, say_digits, hours, language, goto, queue, hangup, ticket_status or voicemail)", where, n.Type)
		return
	}
	for _, e := range n.edges() {
		if _, err := c.resolve(flow, e.target); err != nil {
			c.add(n.at(e.key), "%s: %s %s", where, e.label, err)
		}
	}
	c.checkPrompts(where, n)
}

func (c *checker) checkOptions(where string, n *Node, language bool) {
	if len(n.Options) == 0 {
		c.add(n.Pos, "%s: %s node needs options", where, n.Type)
	}
	for _, k := range sortedKeys(n.Options) {
		pos := n.at("options." + k)
		if k == "" || strings.Trim(k, "0123456789*#") != "" {
			c.add(pos, "%s: option %q must be keypad digits (0-9, *, #)", where, k)
		} else if language && len(k) != 1 {
			c.add(pos, "%s: language option %q must be a single digit", where, k)
		}
		if language {
			if n.Options[k] == "" {
				c.add(pos, "%s: option %q needs a language code", where, k)
			} else {
				c.checkLanguage(pos, where, n.Options[k])
			}
		}
	}
}

func (c *checker) checkTiming(where string, n *Node) {
	if n.Timeout < 0 || n.InterDigit < 0 {
		c.add(n.Pos, "%s: timeouts must not be negative", where)
	}
	if n.Tries < 0 {
		c.add(n.at("tries"), "%s: tries must not be negative", where)
	}
}

func (c *checker) checkCollect(where string, n *Node) {
	if n.MinDigits < 0 || n.MaxDigits < 0 {
		c.add(n.Pos, "%s: min_digits and max_digits must not be negative", where)
	}
	if n.MaxDigits > 0 && n.MinDigits > n.MaxDigits {
		c.add(n.at("min_digits"), "%s: min_digits %d is more than max_digits %d", where, n.MinDigits, n.MaxDigits)
	}
	switch t := n.Terminator; {
	case t == "" || t == "none":
	case len(t) != 1 || strings.Trim(t, "0123456789*#") != "":
		c.add(n.at("terminator"), "%s: terminator %q must be one keypad key or \"none\"", where, t)
	}
	if n.Terminator == "none" && n.MaxDigits == 0 {
		c.add(n.Pos, "%s: collect without a terminator needs max_digits", where)
	}
	if n.Check != "" && !KnownCheck(n.Check) {
		c.add(n.at("check"), "%s: unknown check %q (want %s)", where, n.Check, strings.Join(CheckKinds(), " or "))
	}
	if n.Pattern != "" {
		_, err := regexp.Compile(n.Pattern)
		if err == nil {
			var re *regexp.Regexp
			if re, err = regexp.Compile(`^(?:` + n.Pattern + `)$`); err == nil {
				c.out.patterns[n] = re
			}
		}
		if err != nil {
			c.add(n.at("pattern"), "%s: bad pattern %q: %v", where, n.Pattern, unwrapRegexp(err))
		}
	}
}

// unwrapRegexp drops the Go-syntax prefix from a regexp error.
func unwrapRegexp(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

func (c *checker) checkHours(where string, n *Node) {
	sched := &schedule{holidays: map[string]bool{}}
	ok := true
	if n.TimeZone == "" {
		c.add(n.Pos, "%s: hours node needs time_zone (an IANA name such as \"Europe/Berlin\" or \"UTC\")", where)
		ok = false
	} else if loc, err := time.LoadLocation(n.TimeZone); err != nil || strings.EqualFold(n.TimeZone, "local") {
		c.add(n.at("time_zone"), "%s: unknown time zone %q", where, n.TimeZone)
		ok = false
	} else {
		sched.loc = loc
	}
	if len(n.Schedule) == 0 {
		c.add(n.Pos, "%s: hours node needs a schedule", where)
		ok = false
	}
	for i, s := range n.Schedule {
		sp, err := parseSpan(s)
		if err != nil {
			c.add(n.at(fmt.Sprintf("schedule.%d", i)), "%s: %v", where, err)
			ok = false
			continue
		}
		sched.spans = append(sched.spans, sp)
	}
	for i, h := range n.Holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil || d.Format(time.DateOnly) != h {
			c.add(n.at(fmt.Sprintf("holidays.%d", i)), "%s: bad holiday %q (want YYYY-MM-DD)", where, h)
			ok = false
			continue
		}
		sched.holidays[h] = true
	}
	if ok {
		c.out.schedules[n] = sched
	}
}

// checkTicketZone compiles the time zone a ticket_status node counts days
// in: its own time_zone, else that of the flow's first hours node, else UTC.
func (c *checker) checkTicketZone(flow, where string, n *Node) {
	if n.TimeZone != "" {
		loc, err := time.LoadLocation(n.TimeZone)
		if err != nil || strings.EqualFold(n.TimeZone, "local") {
			c.add(n.at("time_zone"), "%s: unknown time zone %q", where, n.TimeZone)
			return
		}
		c.out.zones[n] = loc
		return
	}
	c.out.zones[n] = time.UTC
	f := c.flows[flow]
	for _, id := range nodeOrder(f) {
		if h := f.Nodes[id]; h != nil && h.Type == TypeHours && h.TimeZone != "" && !strings.EqualFold(h.TimeZone, "local") {
			if loc, err := time.LoadLocation(h.TimeZone); err == nil {
				c.out.zones[n] = loc
				return
			}
		}
	}
}

// checkLanguage reports a language with no prompts at all.
func (c *checker) checkLanguage(pos Pos, where, lang string) {
	if c.prompts == nil {
		return
	}
	if !slices.Contains(c.prompts.Languages(), lang) {
		c.add(pos, "%s: language %q has no prompts (have %s)", where, lang, strings.Join(c.prompts.Languages(), ", "))
	}
}

// checkPrompts reports every prompt a node may play that is missing in any language.
func (c *checker) checkPrompts(where string, n *Node) {
	if c.prompts == nil {
		return
	}
	check := func(key string, names []string) {
		for _, name := range names {
			for _, lang := range c.prompts.Languages() {
				if !c.prompts.Has(lang, name) {
					c.add(n.at(key), "%s: prompt %q is missing in language %q", where, name, lang)
				}
			}
		}
	}
	check("prompt", n.Prompts)
	check("invalid_prompt", n.InvalidPrompts)
	check("timeout_prompt", n.TimeoutPrompts)
	// Prompts the engine adds by itself are reported as one line per language.
	builtIn := func(pos Pos, what string, names []string) {
		for _, lang := range c.prompts.Languages() {
			var missing []string
			for _, name := range names {
				if !c.prompts.Has(lang, name) {
					missing = append(missing, name)
				}
			}
			if len(missing) > 0 {
				c.add(pos, "%s: %s prompts missing in language %q: %s", where, what, lang, strings.Join(missing, ", "))
			}
		}
	}
	switch n.Type {
	case TypeSayDigits:
		builtIn(n.Pos, "say_digits", sayDigitPrompts())
	case TypeCollect:
		if n.Confirm != "" {
			check("confirm", []string{n.Confirm})
			builtIn(n.at("confirm"), "read-back", append([]string{PromptYouEntered}, sayDigitPrompts()...))
		}
	case TypeTicketStatus:
		builtIn(n.Pos, "ticket_status", ticketPrompts())
	}
}

// sayDigitPrompts are the prompts say_digits may play.
func sayDigitPrompts() []string {
	return []string{
		"digit-0", "digit-1", "digit-2", "digit-3", "digit-4",
		"digit-5", "digit-6", "digit-7", "digit-8", "digit-9", "star", "hash",
	}
}

// resolve turns a target ("node", "flow:node" or "flow:") seen in flow into a ref.
func (c *checker) resolve(flow, target string) (ref, error) {
	return resolveIn(c.flows, flow, target)
}

func resolveIn(flows map[string]*Flow, flow, target string) (ref, error) {
	other, id := splitTarget(target)
	if other == "" && strings.Contains(target, ":") {
		return ref{}, fmt.Errorf("%q names no flow", target)
	}
	if other != "" {
		f := flows[other]
		if f == nil {
			return ref{}, fmt.Errorf("%q: flow %q is not defined", target, other)
		}
		if id == "" {
			id = f.Start
		}
		if _, ok := f.Nodes[id]; !ok {
			return ref{}, fmt.Errorf("%q: %q is not a node of flow %q", target, id, other)
		}
		return ref{other, id}, nil
	}
	if _, ok := flows[flow].Nodes[id]; !ok {
		return ref{}, fmt.Errorf("%q is not a node of flow %q", id, flow)
	}
	return ref{flow, id}, nil
}

// checkReachable reports nodes that no flow's start can lead to.
func (c *checker) checkReachable() {
	seen := map[ref]bool{}
	var walk func(r ref)
	walk = func(r ref) {
		if seen[r] {
			return
		}
		seen[r] = true
		for _, e := range c.flows[r.flow].Nodes[r.node].edges() {
			if next, err := c.resolve(r.flow, e.target); err == nil {
				walk(next)
			}
		}
	}
	for _, name := range sortedKeys(c.flows) {
		walk(ref{name, c.flows[name].Start})
	}
	for _, name := range sortedKeys(c.flows) {
		f := c.flows[name]
		for _, id := range nodeOrder(f) {
			if !seen[ref{name, id}] {
				c.add(f.Nodes[id].Pos, "node %q is unreachable from the start of any flow", id)
			}
		}
	}
}

// checkLoops reports cycles made only of nodes that never wait for input:
// a caller caught in one would loop forever without being able to leave.
func (c *checker) checkLoops() {
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[ref]int{}
	var stack []ref
	var visit func(r ref)
	visit = func(r ref) {
		state[r] = onStack
		stack = append(stack, r)
		n := c.flows[r.flow].Nodes[r.node]
		for _, e := range n.edges() {
			next, err := c.resolve(r.flow, e.target)
			if err != nil || c.flows[next.flow].Nodes[next.node].waitsForInput() {
				continue
			}
			switch state[next] {
			case unvisited:
				visit(next)
			case onStack:
				i := slices.Index(stack, next)
				names := make([]string, 0, len(stack)-i+1)
				for _, s := range stack[i:] {
					names = append(names, c.label(s, r.flow))
				}
				names = append(names, c.label(next, r.flow))
				first := c.flows[next.flow].Nodes[next.node]
				c.add(first.Pos, "loop never waits for input: %s", strings.Join(names, " → "))
			}
		}
		stack = stack[:len(stack)-1]
		state[r] = done
	}
	for _, name := range sortedKeys(c.flows) {
		f := c.flows[name]
		for _, id := range nodeOrder(f) {
			r := ref{name, id}
			if state[r] == unvisited && !f.Nodes[id].waitsForInput() {
				visit(r)
			}
		}
	}
}

// label names a node relative to a flow: plain in it, "flow:node" elsewhere.
func (c *checker) label(r ref, flow string) string {
	if r.flow == flow {
		return r.node
	}
	return r.String()
}

// nodeOrder returns a flow's node ids in file order (then by id).
func nodeOrder(f *Flow) []string {
	ids := sortedKeys(f.Nodes)
	slices.SortStableFunc(ids, func(a, b string) int {
		na, nb := f.Nodes[a], f.Nodes[b]
		if na == nil || nb == nil {
			return 0
		}
		return cmp.Compare(na.Pos.Line, nb.Pos.Line)
	})
	return ids
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
