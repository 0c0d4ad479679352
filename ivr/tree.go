package ivr

import (
	"fmt"
	"io"
	"strings"
)

// PrintTree writes f as a tree for humans (`hotline check`): each node once,
// in the order a caller can reach it, with later references marked "(above)".
func PrintTree(w io.Writer, f *Flow) error {
	if f == nil {
		return fmt.Errorf("ivr: no flow to print")
	}
	p := &treePrinter{w: w, f: f, seen: map[string]bool{}}
	p.printf("flow %s (%s), start %s\n", f.Name, f.Pos, f.Start)
	if n := f.Nodes[f.Start]; n != nil {
		p.seen[f.Start] = true
		p.printf("%s\n", describe(f.Start, n))
		p.children(n, "")
	}
	for _, id := range nodeOrder(f) {
		if !p.seen[id] && f.Nodes[id] != nil {
			p.seen[id] = true
			p.printf("(unreachable) %s\n", describe(id, f.Nodes[id]))
			p.children(f.Nodes[id], "")
		}
	}
	return p.err
}

type treePrinter struct {
	w    io.Writer
	f    *Flow
	seen map[string]bool
	err  error
}

func (p *treePrinter) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *treePrinter) children(n *Node, indent string) {
	edges := n.edges()
	for i, e := range edges {
		branch, more := "├─ ", "│  "
		if i == len(edges)-1 {
			branch, more = "└─ ", "   "
		}
		next := p.f.Nodes[e.target]
		switch {
		case strings.Contains(e.target, ":"):
			p.printf("%s%s%s → %s (another flow)\n", indent, branch, e.label, e.target)
		case next == nil:
			p.printf("%s%s%s → %s (undefined)\n", indent, branch, e.label, e.target)
		case p.seen[e.target]:
			p.printf("%s%s%s → %s (above)\n", indent, branch, e.label, e.target)
		default:
			p.seen[e.target] = true
			p.printf("%s%s%s → %s\n", indent, branch, e.label, describe(e.target, next))
			p.children(next, indent+more)
		}
	}
}

// describe is a one-line summary of a node.
func describe(id string, n *Node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s]", id, n.Type)
	if len(n.Prompts) > 0 {
		fmt.Fprintf(&b, " prompt %s", strings.Join(n.Prompts, ","))
	}
	switch n.Type {
	case TypeMenu:
		fmt.Fprintf(&b, ", %d tries, timeout %s", n.tries(), n.timeout())
	case TypeCollect:
		fmt.Fprintf(&b, " → $%s", n.Var)
		if t := n.terminator(); t != 0 {
			fmt.Fprintf(&b, ", ends with %c", t)
		}
		if n.MinDigits > 0 || n.MaxDigits > 0 {
			fmt.Fprintf(&b, ", %d..%d digits", n.MinDigits, n.MaxDigits)
		}
		if n.Pattern != "" {
			fmt.Fprintf(&b, ", pattern %s", n.Pattern)
		}
		if n.Check != "" {
			fmt.Fprintf(&b, ", check %s", n.Check)
		}
		if n.AllowEmpty || n.Empty != "" {
			b.WriteString(", may be empty")
		}
		if n.Confirm != "" {
			fmt.Fprintf(&b, ", read back, confirm %s", n.Confirm)
		}
	case TypeSayDigits:
		fmt.Fprintf(&b, " $%s", n.Var)
	case TypeTicketStatus:
		fmt.Fprintf(&b, " ticket $%s", n.Var)
		if n.TimeZone != "" {
			fmt.Fprintf(&b, ", days in %s", n.TimeZone)
		}
	case TypeVoicemail:
		b.WriteString(" → voicemail")
		if n.Queue != "" {
			fmt.Fprintf(&b, " for queue %s", n.Queue)
		}
		fmt.Fprintf(&b, ", up to %s", n.maxLength())
	case TypeHours:
		fmt.Fprintf(&b, " %s: %s", n.TimeZone, strings.Join(n.Schedule, "; "))
		if len(n.Holidays) > 0 {
			fmt.Fprintf(&b, "; closed %s", strings.Join(n.Holidays, ", "))
		}
	case TypeLanguage:
		for _, k := range sortedKeys(n.Options) {
			fmt.Fprintf(&b, " %s=%s", k, n.Options[k])
		}
		if n.Default != "" {
			fmt.Fprintf(&b, ", default %s", n.Default)
		}
	case TypeQueue:
		fmt.Fprintf(&b, " → queue %s, priority %d", n.Queue, n.Priority)
		if len(n.Skills) > 0 {
			fmt.Fprintf(&b, ", skills %s", strings.Join(n.Skills, ","))
		}
	}
	return b.String()
}
