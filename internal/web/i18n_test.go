package web

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// i18nKeys returns the keys of one language block of i18n.js.
func i18nKeys(t *testing.T, src, lang string) []string {
	t.Helper()
	start := strings.Index(src, "\n    "+lang+": {\n")
	require.GreaterOrEqual(t, start, 0, "no %s block in i18n.js", lang)
	end := strings.Index(src[start:], "\n    },\n")
	require.Greater(t, end, 0)
	var keys []string
	for _, m := range regexp.MustCompile(`(?m)^\s{6}(\w+): `).FindAllStringSubmatch(src[start:start+end], -1) {
		keys = append(keys, m[1])
	}
	slices.Sort(keys)
	return keys
}

// Every text has both languages, and every key the pages use exists: a
// missing one would show its key on screen.
func TestEveryTextIsTranslated(t *testing.T) {
	read := func(name string) string {
		b, err := staticFiles.ReadFile("static/" + name)
		require.NoError(t, err)
		return string(b)
	}
	src := read("i18n.js")
	en, ru := i18nKeys(t, src, "en"), i18nKeys(t, src, "ru")
	require.NotEmpty(t, en)
	require.Equal(t, en, ru, "English and Russian have the same keys")

	used := map[string]bool{}
	for _, page := range []string{"agent.html", "login.html", "recordings.html"} {
		for _, m := range regexp.MustCompile(`data-i18n(?:-placeholder)?="(\w+)"`).FindAllStringSubmatch(read(page), -1) {
			used[m[1]] = true
		}
		for _, m := range regexp.MustCompile(`data-i18n-state="(\w+)"`).FindAllStringSubmatch(read(page), -1) {
			used["state_"+m[1]] = true
		}
	}
	for _, script := range []string{"agent.js", "login.js", "recordings.js"} {
		for _, m := range regexp.MustCompile(`(?:\bt|say\([^,]+,|showError|setConn)\(?\s*'(\w+)'\s*[,)]`).FindAllStringSubmatch(read(script), -1) {
			used[m[1]] = true
		}
	}
	for _, s := range []string{"signed_out", "ready", "not_ready", "offered", "on_call", "on_hold", "wrap_up", "consult"} {
		used["state_"+s] = true
	}
	for _, s := range []string{"recording", "complete", "recovered", "failed", "deleted"} {
		used["rec_state_"+s] = true // a recording's state (agent.js, recordings.js)
	}
	// Keys set through dataset.i18n in the scripts.
	for _, script := range []string{"agent.js", "recordings.js"} {
		for _, m := range regexp.MustCompile(`'(\w*[a-z])'`).FindAllStringSubmatch(read(script), -1) {
			if strings.HasPrefix(m[1], "btn_") || strings.HasPrefix(m[1], "rec_") {
				used[m[1]] = true
			}
		}
	}
	require.Greater(t, len(used), 40, "the key scan found the pages' keys")
	for k := range used {
		require.Contains(t, en, k, "text %q is used but not defined", k)
	}
}
