package flowfile_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/ivr/flowfile"
)

func TestLabels(t *testing.T) {
	f, err := flowfile.Parse("l.yaml", []byte(`start: a
nodes:
  a:
    type: play
    label: {en: Welcome, ru: Приветствие}
    next: b
  b:
    type: play
    label: Billing
    next: c
  c:
    type: play
    label: ""
    next: d
  d:
    type: hangup
`))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"en": "Welcome", "ru": "Приветствие"}, f.Nodes["a"].Label)
	require.Equal(t, map[string]string{"": "Billing"}, f.Nodes["b"].Label, "one text for every language")
	require.Equal(t, map[string]string{"": ""}, f.Nodes["c"].Label, "a label that hides the node")
	require.Nil(t, f.Nodes["d"].Label, "no label")

	warnings := ivr.Lint(map[string]*ivr.Flow{"l": f}, []string{"en", "ru", "de"})
	var msgs []string
	for _, w := range warnings {
		msgs = append(msgs, w.Error())
	}
	require.Equal(t, []string{
		`l.yaml:5: node "a": label has no de text`,
		`l.yaml:15: node "d" has no label: agents see "d" for it (add label: {en: ..., ru: ...}, or label: "" to hide it)`,
	}, msgs)

	_, err = flowfile.Parse("bad.yaml", []byte("start: a\nnodes:\n  a:\n    type: hangup\n    label: {\"en\": [x]}\n"))
	require.ErrorContains(t, err, "bad.yaml:5:")
}

// Every node of the demo flow has a label in English and Russian.
func TestDemoLabelled(t *testing.T) {
	f, err := flowfile.Load(os.DirFS("../../internal/demo/flows"), "demo.yaml")
	require.NoError(t, err)
	warnings := ivr.Lint(map[string]*ivr.Flow{"demo": f}, []string{"en", "ru"})
	var msgs []string
	for _, w := range warnings {
		msgs = append(msgs, w.Error())
	}
	require.Empty(t, strings.Join(msgs, "\n"))
	require.Equal(t, "Техническая поддержка", f.Nodes["enter-serial"].Label["ru"])
}
