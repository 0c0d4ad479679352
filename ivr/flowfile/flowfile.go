// Package flowfile loads IVR flows from YAML files into ivr.Flow values that
// remember the file and line of every node and key, so that problems found
// later by ivr.Validate point at the line to fix.
//
// A flow file:
//
//	name: demo            # optional; default the file name without extension
//	start: welcome
//	language: en          # optional default prompt language
//	nodes:
//	  welcome:
//	    type: play
//	    label: ""         # what the agent reads for this step, here nothing
//	    prompt: welcome   # a name or a list of names
//	    next: main
//	  main:
//	    type: menu
//	    label: {en: Main menu, ru: Главное меню}  # or one text for all languages
//	    prompt: main-menu
//	    options: {"1": support, "2": billing}
//	    timeout: 5s       # or a number of seconds
//	    tries: 3
//	    invalid_prompt: invalid
//	    timeout_prompt: no-input
//	    exhausted: bye
//	  serial:
//	    type: collect
//	    var: serial
//	    min_digits: 8
//	    check: luhn       # or mod11: the last digit is a check digit
//	    confirm: confirm-entry  # read the input back, then 1 accepts, 2 re-enters
//	    next: support
//	    exhausted: support
//	  status:
//	    type: ticket_status
//	    var: ticket       # the collected ticket number
//	    next: main
//	    unknown: main     # optional; default next
//	  closed:
//	    type: voicemail
//	    prompt: leave-message
//	    queue: support    # optional
//	    max_length: 2m    # optional; default 2m, at most 1h
//	  ...
//
// See the ivr package for every node type and what its keys mean.
package flowfile

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotline/hotline/ivr"
	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a flow file; larger files are refused.
const MaxFileSize = 1 << 20

// flowKeys are the keys allowed at the top of a flow file.
var flowKeys = []string{"name", "description", "start", "language", "nodes"}

// commonKeys are allowed on every node.
var commonKeys = []string{"type", "description", "label", "prompt", "next", "flush", "barge_in"}

// inputKeys are shared by the node types that wait for digits.
var inputKeys = []string{"options", "timeout", "inter_digit", "tries", "invalid_prompt", "timeout_prompt", "exhausted"}

// typeKeys are the keys each node type allows besides commonKeys.
var typeKeys = map[string][]string{
	ivr.TypePlay:         nil,
	ivr.TypeMenu:         inputKeys,
	ivr.TypeCollect:      append(slices.Clone(inputKeys[1:]), "var", "min_digits", "max_digits", "terminator", "pattern", "allow_empty", "empty", "check", "confirm"),
	ivr.TypeSayDigits:    {"var"},
	ivr.TypeHours:        {"time_zone", "schedule", "holidays", "open", "closed"},
	ivr.TypeLanguage:     append(slices.Clone(inputKeys), "default"),
	ivr.TypeGoto:         nil,
	ivr.TypeQueue:        {"queue", "priority", "skills"},
	ivr.TypeHangup:       nil,
	ivr.TypeTicketStatus: {"var", "unknown", "time_zone"},
	ivr.TypeVoicemail:    {"queue", "max_length"},
}

// Load reads one flow from path in fsys. Errors read "path:line: message",
// all of them joined.
func Load(fsys fs.FS, name string) (*ivr.Flow, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return Parse(name, data)
}

// LoadAll loads flows keyed by flow name from their paths. Each flow takes
// the name it is keyed by. Every file's errors are returned, joined.
func LoadAll(fsys fs.FS, paths map[string]string) (map[string]*ivr.Flow, error) {
	flows := make(map[string]*ivr.Flow, len(paths))
	var errs []error
	names := make([]string, 0, len(paths))
	for n := range paths {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f, err := Load(fsys, paths[n])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.Name = n
		flows[n] = f
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return flows, nil
}

// Parse decodes one flow file's contents; file names it in positions and errors.
func Parse(file string, data []byte) (*ivr.Flow, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: file is larger than %d bytes", file, MaxFileSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	p := &parser{file: file}
	f := p.flow(&doc)
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	return f, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError rewrites "yaml: line 3: msg" as "file:3: msg".
func yamlError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", file, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", file, strings.TrimPrefix(msg, "yaml: "))
}

// parser turns a YAML document into an ivr.Flow, collecting errors.
type parser struct {
	file string
	errs []error
}

func (p *parser) pos(n *yaml.Node) ivr.Pos { return ivr.Pos{File: p.file, Line: n.Line} }

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", p.pos(n), fmt.Sprintf(format, args...)))
}

// deref follows YAML aliases (bounded, against alias loops).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 16 && n != nil && n.Kind == yaml.AliasNode; i++ {
		n = n.Alias
	}
	return n
}

// pairs walks a mapping's key/value pairs, reporting duplicate keys.
func (p *parser) pairs(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node)) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil {
			p.errorf(n, "%s must be a mapping", what)
		}
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || v == nil || k.Kind != yaml.ScalarNode {
			p.errorf(n.Content[i], "%s: keys must be plain strings", what)
			continue
		}
		if seen[k.Value] {
			p.errorf(k, "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k.Value, k, v)
	}
}

func (p *parser) flow(doc *yaml.Node) *ivr.Flow {
	f := &ivr.Flow{Pos: ivr.Pos{File: p.file, Line: 1}, FieldPos: map[string]ivr.Pos{}, Nodes: map[string]*ivr.Node{}}
	base := path.Base(p.file)
	f.Name = strings.TrimSuffix(base, path.Ext(base))
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.errs = append(p.errs, fmt.Errorf("%s: empty flow file", p.file))
		return f
	}
	root := deref(doc.Content[0])
	if root == nil || root.Kind != yaml.MappingNode {
		p.errorf(doc.Content[0], "a flow file must be a mapping with start and nodes")
		return f
	}
	f.Pos = p.pos(root)
	p.pairs(root, "flow", func(key string, k, v *yaml.Node) {
		f.FieldPos[key] = p.pos(v)
		switch key {
		case "name":
			f.Name = p.str(v, key)
		case "description":
			p.str(v, key)
		case "start":
			f.Start = p.str(v, key)
		case "language":
			f.Language = p.str(v, key)
		case "nodes":
			p.pairs(v, "nodes", func(id string, k, v *yaml.Node) {
				if id == "" || strings.ContainsAny(id, ": \t") {
					p.errorf(k, "bad node id %q (no spaces or colons)", id)
					return
				}
				f.Nodes[id] = p.node(id, k, v)
			})
		default:
			p.errorf(k, "unknown key %q (want %s)", key, strings.Join(flowKeys, ", "))
		}
	})
	for _, key := range []string{"start", "nodes"} {
		if _, ok := f.FieldPos[key]; !ok {
			p.errorf(root, "flow needs %q", key)
		}
	}
	return f
}

func (p *parser) node(id string, k, v *yaml.Node) *ivr.Node {
	n := &ivr.Node{ID: id, Pos: p.pos(k), FieldPos: map[string]ivr.Pos{}}
	where := "node " + strconv.Quote(id)
	if v.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(v.Content); i += 2 {
			if key := deref(v.Content[i]); key != nil && key.Value == "type" {
				n.Type = p.str(deref(v.Content[i+1]), "type")
			}
		}
	}
	allowed, knownType := typeKeys[n.Type]
	p.pairs(v, where, func(key string, kn, vn *yaml.Node) {
		n.FieldPos[key] = p.pos(vn)
		known := slices.Contains(commonKeys, key)
		if !known {
			if knownType {
				known = slices.Contains(allowed, key)
			} else {
				for _, keys := range typeKeys {
					known = known || slices.Contains(keys, key)
				}
			}
		}
		if !known {
			if knownType {
				p.errorf(kn, "%s: key %q does not apply to a %s node", where, key, n.Type)
			} else {
				p.errorf(kn, "%s: unknown key %q", where, key)
			}
			return
		}
		p.field(n, where, key, vn)
	})
	return n
}

// field sets one node key from its YAML value.
func (p *parser) field(n *ivr.Node, where, key string, v *yaml.Node) {
	what := where + ": " + key
	switch key {
	case "type":
		n.Type = p.str(v, what)
	case "description":
		p.str(v, what)
	case "label":
		n.Label = p.label(v, what)
	case "prompt":
		n.Prompts = p.strs(v, what)
	case "invalid_prompt":
		n.InvalidPrompts = p.strs(v, what)
	case "timeout_prompt":
		n.TimeoutPrompts = p.strs(v, what)
	case "next":
		n.Next = p.str(v, what)
	case "flush":
		n.Flush = p.bool(v, what)
	case "barge_in":
		n.NoBargeIn = !p.bool(v, what)
	case "options":
		n.Options = map[string]string{}
		p.pairs(v, what, func(digit string, k, target *yaml.Node) {
			n.FieldPos["options."+digit] = p.pos(k)
			n.Options[digit] = p.str(target, what+" "+strconv.Quote(digit))
		})
	case "timeout":
		n.Timeout = p.duration(v, what)
	case "inter_digit":
		n.InterDigit = p.duration(v, what)
	case "tries":
		n.Tries = p.int(v, what)
	case "exhausted":
		n.Exhausted = p.str(v, what)
	case "var":
		n.Var = p.str(v, what)
	case "min_digits":
		n.MinDigits = p.int(v, what)
	case "max_digits":
		n.MaxDigits = p.int(v, what)
	case "terminator":
		n.Terminator = p.str(v, what)
	case "pattern":
		n.Pattern = p.str(v, what)
	case "allow_empty":
		n.AllowEmpty = p.bool(v, what)
	case "empty":
		n.Empty = p.str(v, what)
	case "check":
		n.Check = p.str(v, what)
		if n.Check != "" && !ivr.KnownCheck(n.Check) {
			p.errorf(v, "%s: unknown check %q (want %s)", what, n.Check, strings.Join(ivr.CheckKinds(), " or "))
		}
	case "confirm":
		n.Confirm = p.str(v, what)
	case "unknown":
		n.Unknown = p.str(v, what)
	case "max_length":
		n.MaxLength = p.positiveDuration(v, what)
	case "time_zone":
		n.TimeZone = p.str(v, what)
	case "schedule":
		n.Schedule = p.list(n, key, v, what)
	case "holidays":
		n.Holidays = p.list(n, key, v, what)
	case "open":
		n.Open = p.str(v, what)
	case "closed":
		n.Closed = p.str(v, what)
	case "default":
		n.Default = p.str(v, what)
	case "queue":
		n.Queue = p.str(v, what)
	case "priority":
		n.Priority = p.int(v, what)
	case "skills":
		n.Skills = p.strs(v, what)
	}
}

// str reads a scalar as a string.
func (p *parser) str(v *yaml.Node, what string) string {
	v = deref(v)
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		if v != nil {
			p.errorf(v, "%s must be a single value", what)
		}
		return ""
	}
	return v.Value
}

// label reads a node's label: one text for every language, or a mapping of
// language codes to texts ({en: Billing, ru: Оплата}).
func (p *parser) label(v *yaml.Node, what string) map[string]string {
	v = deref(v)
	out := map[string]string{}
	if v != nil && v.Kind == yaml.MappingNode {
		p.pairs(v, what, func(lang string, k, text *yaml.Node) {
			if lang == "" || strings.ContainsAny(lang, " \t") {
				p.errorf(k, "%s: %q is not a language code", what, lang)
				return
			}
			out[lang] = p.str(text, what+" "+lang)
		})
		return out
	}
	if v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return out // label: with nothing after it hides the node, like ""
	}
	out[""] = p.str(v, what)
	return out
}

// strs reads one string or a list of strings.
func (p *parser) strs(v *yaml.Node, what string) []string {
	v = deref(v)
	if v != nil && v.Kind == yaml.SequenceNode {
		out := make([]string, 0, len(v.Content))
		for _, item := range v.Content {
			if s := p.str(item, what); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if s := p.str(v, what); s != "" {
		return []string{s}
	}
	return nil
}

// list reads a list of strings, recording each item's line as "key.i".
func (p *parser) list(n *ivr.Node, key string, v *yaml.Node, what string) []string {
	v = deref(v)
	if v == nil || v.Kind != yaml.SequenceNode {
		if v != nil {
			p.errorf(v, "%s must be a list", what)
		}
		return nil
	}
	out := make([]string, 0, len(v.Content))
	for i, item := range v.Content {
		n.FieldPos[key+"."+strconv.Itoa(i)] = p.pos(item)
		out = append(out, p.str(item, what))
	}
	return out
}

func (p *parser) int(v *yaml.Node, what string) int {
	s := p.str(v, what)
	if s == "" {
		return 0
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		p.errorf(v, "%s: %q is not a whole number", what, s)
	}
	return i
}

func (p *parser) bool(v *yaml.Node, what string) bool {
	switch s := p.str(v, what); s {
	case "true", "yes", "on":
		return true
	case "false", "no", "off", "":
		return false
	default:
		p.errorf(v, "%s: %q is not true or false", what, s)
		return false
	}
}

// positiveDuration reads a duration that must be more than zero.
func (p *parser) positiveDuration(v *yaml.Node, what string) time.Duration {
	s := p.str(v, what)
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		p.errorf(v, "%s: %q must not be negative", what, s)
		return 0
	}
	errs := len(p.errs)
	d := p.duration(v, what)
	if d == 0 && s != "" && len(p.errs) == errs {
		p.errorf(v, "%s: must be more than zero", what)
	}
	return d
}

// duration reads "5s", "1m30s" or a plain number of seconds.
func (p *parser) duration(v *yaml.Node, what string) time.Duration {
	s := p.str(v, what)
	if s == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil && secs >= 0 && secs < 86400 {
		return time.Duration(secs * float64(time.Second))
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		p.errorf(v, "%s: %q is not a duration (e.g. 5s, 1.5s, 500ms)", what, s)
		return 0
	}
	return d
}
