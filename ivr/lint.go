package ivr

import (
	"fmt"
	"slices"
)

// Lint returns what is allowed but reads badly to people, sorted by file
// and line: a node without a label (the agent sees its id instead of what
// the caller chose), and a label with texts that lacks one of languages
// (the agents working in that language read another one). The flows need
// not be valid.
func Lint(flows map[string]*Flow, languages []string) []*Problem {
	var out []*Problem
	for _, name := range sortedKeys(flows) {
		f := flows[name]
		for _, id := range sortedKeys(f.Nodes) {
			n := f.Nodes[id]
			if n.Label == nil {
				out = append(out, &Problem{Pos: n.Pos, Msg: fmt.Sprintf("node %q has no label: agents see %q for it (add label: {en: ..., ru: ...}, or label: \"\" to hide it)", id, id)})
				continue
			}
			if _, all := n.Label[""]; all || !labelled(n.Label) {
				continue
			}
			for _, lang := range languages {
				if _, ok := n.Label[lang]; !ok {
					out = append(out, &Problem{Pos: n.at("label"), Msg: fmt.Sprintf("node %q: label has no %s text", id, lang)})
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *Problem) int {
		if a.Pos.File != b.Pos.File {
			if a.Pos.File < b.Pos.File {
				return -1
			}
			return 1
		}
		return a.Pos.Line - b.Pos.Line
	})
	return out
}

// labelled reports whether a label has any text (one with none hides its node).
func labelled(label map[string]string) bool {
	for _, s := range label {
		if s != "" {
			return true
		}
	}
	return false
}
