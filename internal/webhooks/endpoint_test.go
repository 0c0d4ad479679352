package webhooks

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseEndpointsDefaults(t *testing.T) {
	eps, err := ParseEndpoints([]byte(`
webhooks:
  - name: crm
    url: https://crm.example.com/hooks/hotline
    secret: whsec_0123456789abcdef
    events: [ticket.created, ticket.updated]
    timeout: 3s
  - name: zammad
    url: https://zammad.example.com/api/v1/cti/TOKEN
    format: zammad
`))
	require.NoError(t, err)
	require.Len(t, eps, 2)
	require.Equal(t, Endpoint{
		Name: "crm", URL: "https://crm.example.com/hooks/hotline", Format: FormatHotline,
		Secret: "whsec_0123456789abcdef", Events: []string{"ticket.created", "ticket.updated"}, Timeout: 3 * time.Second,
	}, eps[0])
	require.Equal(t, FormatZammad, eps[1].Format)
	require.Equal(t, []string{"call.ringing", "call.answered", "call.ended"}, eps[1].Events, "zammad defaults to the call topics")
	require.Equal(t, DefaultTimeout, eps[1].Timeout)

	eps, err = ParseEndpoints([]byte("webhooks:\n  - {name: a, url: 'http://127.0.0.1:9099/', secret_file: /run/secrets/hook}\n"))
	require.NoError(t, err)
	require.Equal(t, Topics(), eps[0].Events, "hotline defaults to every topic")

	eps, err = ParseEndpoints(nil)
	require.NoError(t, err)
	require.Empty(t, eps)
}

func TestParseEndpointsErrors(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":   {"webhooks:\n  - name: a\n    urll: x\n", "field urll not found"},
		"not a list":    {"webhooks: {name: a}\n", "cannot unmarshal"},
		"other section": {"sip: {}\n", "field sip not found"},
		"bad duration":  {"webhooks:\n  - name: a\n    timeout: soon\n", "cannot unmarshal"},
		"no name":       {"webhooks:\n  - url: http://x/\n    secret: 0123456789abcdef\n", "line 2: webhooks[0].name: every webhook needs a name"},
		"bad name":      {"webhooks:\n  - name: a b\n    url: http://x/\n    secret: 0123456789abcdef\n", `line 2: webhooks[0].name: "a b": use up to 64`},
		"duplicate name": {"webhooks:\n  - {name: a, url: 'http://x/', secret: 0123456789abcdef}\n  - {name: a, url: 'http://y/', secret: 0123456789abcdef}\n",
			`line 3: webhooks[1].name: "a" is already the name of webhooks[0]`},
		"ftp":           {"webhooks:\n  - name: a\n    url: ftp://x/\n    secret: 0123456789abcdef\n", `line 3: webhooks[0].url: "ftp://x" is not an http:// or https:// URL`},
		"no host":       {"webhooks:\n  - name: a\n    url: 'http:///x'\n    secret: 0123456789abcdef\n", `line 3: webhooks[0].url: "http:///x" has no host`},
		"no url":        {"webhooks:\n  - name: a\n    secret: 0123456789abcdef\n", "line 2: webhooks[0].url: every webhook needs a url"},
		"short secret":  {"webhooks:\n  - name: a\n    url: http://x/\n    secret: short\n", "line 4: webhooks[0].secret: is 5 bytes; use at least 16"},
		"no secret":     {"webhooks:\n  - name: a\n    url: http://x/\n", "line 2: webhooks[0].secret: a hotline webhook needs a secret"},
		"both secrets":  {"webhooks:\n  - name: a\n    url: http://x/\n    secret: 0123456789abcdef\n    secret_file: f\n", "give secret or secret_file, not both"},
		"zammad secret": {"webhooks:\n  - name: z\n    format: zammad\n    url: http://x/\n    secret: 0123456789abcdef\n", "line 5: webhooks[0].secret: zammad deliveries are not signed"},
		"bad format":    {"webhooks:\n  - name: a\n    url: http://x/\n    format: xml\n", `line 4: webhooks[0].format: "xml" is not hotline or zammad`},
		"bad event": {"webhooks:\n  - name: a\n    url: http://x/\n    secret: 0123456789abcdef\n    events:\n      - call.ended\n      - call.exploded\n",
			`line 7: webhooks[0].events.1: "call.exploded" is not one of call.ringing, call.answered`},
		"zammad ticket": {"webhooks:\n  - name: z\n    format: zammad\n    url: http://x/\n    events: [ticket.created]\n",
			`line 5: webhooks[0].events.0: "ticket.created": zammad webhooks receive only call.ringing, call.answered, call.ended`},
		"twice":            {"webhooks:\n  - {name: a, url: 'http://x/', secret: 0123456789abcdef, events: [call.ended, call.ended]}\n", `webhooks[0].events.1: "call.ended" is listed twice`},
		"negative timeout": {"webhooks:\n  - {name: a, url: 'http://x/', secret: 0123456789abcdef, timeout: -1s}\n", "line 2: webhooks[0].timeout: must not be negative"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseEndpoints([]byte(tc.yaml))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestCheckEndpointsReportsEverything(t *testing.T) {
	err := CheckEndpoints([]Endpoint{{Name: "a"}, {Name: "b", URL: "https://h/", Secret: "0123456789abcdef"}, {URL: "mailto:x"}})
	require.Error(t, err)
	var fields []string
	for _, e := range unjoin(err) {
		var fe *FieldError
		require.True(t, errors.As(e, &fe), e)
		fields = append(fields, e.Error()[:strings.Index(e.Error(), ":")])
	}
	require.Equal(t, []string{"webhooks[0].url", "webhooks[0].secret", "webhooks[2].name", "webhooks[2].url", "webhooks[2].secret"}, fields)
	require.NoError(t, CheckEndpoints(nil))
}

func TestURLsAreRedacted(t *testing.T) {
	require.Equal(t, "https://zammad.example.com/…", redact("https://zammad.example.com/api/v1/cti/SECRET-TOKEN"))
	require.Equal(t, "http://127.0.0.1:9099", redact("http://127.0.0.1:9099/"))
	err := CheckEndpoints([]Endpoint{{Name: "z", Format: FormatZammad, URL: "gopher://zammad.example.com/api/v1/cti/SECRET-TOKEN"}})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "SECRET-TOKEN")
}
