package switchboard

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/hotline/hotline/internal/media"
)

// Prompts is the prompt library: every WAV of every language, decoded once at
// load and shared read-only by all calls. It satisfies ivr.PromptSet.
type Prompts struct {
	langs []string
	byKey map[string]*media.Prompt // "lang/name"
}

// LoadPrompts decodes dir/<lang>/*.wav for each language. A file that cannot be
// decoded fails the load with an error naming it.
func LoadPrompts(fsys fs.FS, dir string, langs []string) (*Prompts, error) {
	p := &Prompts{langs: slices.Clone(langs), byKey: map[string]*media.Prompt{}}
	for _, lang := range langs {
		entries, err := fs.ReadDir(fsys, path.Join(dir, lang))
		if err != nil {
			return nil, fmt.Errorf("prompts for language %q: %w", lang, err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".wav") {
				continue
			}
			pr, err := media.LoadWAVFile(fsys, path.Join(dir, lang, e.Name()))
			if err != nil {
				return nil, err
			}
			p.byKey[lang+"/"+strings.TrimSuffix(e.Name(), ".wav")] = pr
		}
	}
	return p, nil
}

// Has reports whether the prompt exists in the language.
func (p *Prompts) Has(lang, name string) bool {
	_, ok := p.byKey[lang+"/"+name]
	return ok
}

// Languages lists the languages the library was loaded for.
func (p *Prompts) Languages() []string { return slices.Clone(p.langs) }

// Get returns the prompt, or nil when it is missing.
func (p *Prompts) Get(lang, name string) *media.Prompt { return p.byKey[lang+"/"+name] }
