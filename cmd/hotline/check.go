package main

import (
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/hotline/hotline/ivr"
)

// checkCmd validates a configuration with everything it names (flows,
// prompts, music) and prints each flow as a tree.
func checkCmd(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("check", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprintln(stderr, "usage: hotline check [FILE]   (no FILE: the built-in demo)") }
	if err := fl.Parse(args); err != nil {
		return usageError{err}
	}
	var o overrides
	if fl.NArg() > 1 {
		fl.Usage()
		return usageError{fmt.Errorf("check takes one file")}
	}
	o.config = fl.Arg(0)
	cfg, fsys, err := loadConfig(o)
	if err != nil {
		return err
	}
	_, flows, err := loadAssets(cfg, fsys)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(flows))
	for n := range flows {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := ivr.PrintTree(stdout, flows[n]); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
	}
	warnings := 0
	for _, w := range ivr.Lint(flows, cfg.Prompts.Languages) {
		fmt.Fprintf(stdout, "warning: %s\n", w)
		warnings++
	}
	for _, w := range reasonWarnings(cfg.ACD.NotReadyReasons, cfg.ACD.NotReadyLabels, cfg.Prompts.Languages) {
		fmt.Fprintf(stdout, "warning: %s\n", w)
		warnings++
	}
	fmt.Fprintf(stdout, "configuration OK: %d flow(s), languages %v", len(flows), cfg.Prompts.Languages)
	if warnings > 0 {
		fmt.Fprintf(stdout, ", %d warning(s)", warnings)
	}
	fmt.Fprintln(stdout)
	return nil
}

// reasonWarnings names each not-ready reason that has no text in one of
// languages: agents working in that language would read its raw key.
func reasonWarnings(reasons []string, labels map[string]map[string]string, languages []string) []string {
	var out []string
	for _, r := range reasons {
		for _, lang := range languages {
			if labels[r][lang] == "" {
				out = append(out, fmt.Sprintf("acd.not_ready_labels: reason %q has no %s text (agents see %q)", r, lang, r))
			}
		}
	}
	return out
}
