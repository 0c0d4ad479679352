package sip

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/sip/siptest"
)

// inviteWith parses an INVITE from a From value and P-Asserted-Identity
// header values.
func inviteWith(t *testing.T, from string, pai ...string) *sip.Request {
	t.Helper()
	var b strings.Builder
	b.WriteString("INVITE sip:support@127.0.0.1 SIP/2.0\r\n")
	b.WriteString("Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n")
	b.WriteString("From: " + from + ";tag=1\r\n")
	b.WriteString("To: <sip:support@127.0.0.1>\r\nCall-ID: pai-test\r\nCSeq: 1 INVITE\r\n")
	for _, v := range pai {
		b.WriteString("P-Asserted-Identity: " + v + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	m, err := sip.ParseMessage([]byte(b.String()))
	require.NoError(t, err)
	req, ok := m.(*sip.Request)
	require.True(t, ok)
	return req
}

func TestAssertedIdentityTrustedTrunk(t *testing.T) {
	const from = `"Front desk" <sip:caller1@192.0.2.1>`
	for _, tc := range []struct {
		name         string
		pai          []string
		number, text string
	}{
		{"sip URI with a name", []string{`"Pat Doe" <sip:+79123456789@carrier.example;user=phone>`}, "+79123456789", "Pat Doe"},
		{"sip and tel in one value", []string{`"Pat \"PD\" Doe" <sip:+15551234567@carrier.example>, <tel:+1-555-123-4567>`}, "+15551234567", `Pat "PD" Doe`},
		{"tel only, From's name kept", []string{`<tel:+7-912-345-67-89;cpc=ordinary>`}, "+79123456789", "Front desk"},
		{"unquoted name", []string{`Pat Doe <sip:+74951234567@carrier.example>`}, "+74951234567", "Pat Doe"},
		{"bare addr-spec", []string{`sip:+74951234567@carrier.example;tag=x`}, "+74951234567", "Front desk"},
		{"percent-encoded user", []string{`<sip:%2B74951234567@carrier.example>`}, "+74951234567", "Front desk"},
		{"second header when the first is unusable", []string{`<mailto:pat@example.com>`, `"Pat" <tel:+74951234567>`}, "+74951234567", "Pat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := identityOf(inviteWith(t, from, tc.pai...), true)
			require.Equal(t, tc.number, id.number)
			require.Equal(t, tc.text, id.name)
			require.True(t, id.asserted)
		})
	}
}

func TestAssertedIdentityUntrustedOrGarbageFallsBackToFrom(t *testing.T) {
	const from = `"Front desk" <sip:caller1@192.0.2.1>`
	id := identityOf(inviteWith(t, from, `"Pat Doe" <sip:+79123456789@carrier.example>`), false)
	require.Equal(t, identity{number: "caller1", name: "Front desk"}, id, "an untrusted trunk's PAI is not read")

	for _, garbage := range []string{
		``, `<>`, `<<<>>>`, `"unterminated <sip:+7912@x>`, `"Pat" sip:+7912@x`, `<sip:+7912@x`,
		`<sip:nohost>`, `<sip:@host>`, `<tel:>`, `<tel:;foo>`, `<http://example.com>`, `,,,`, `"\`,
		"<sip:+79\x01123@x>", "<sip:+79 123@x>", `<sip:` + strings.Repeat("9", 200) + `@x>`, `Pat Doe sip:+7912@x`,
		"\"Pat\xff\" <sip:\xff\xfe@x>",
	} {
		t.Run(garbage, func(t *testing.T) {
			id := identityOf(inviteWith(t, from, garbage), true)
			require.Equal(t, identity{number: "caller1", name: "Front desk"}, id)
		})
	}
}

func TestFromDisplayNameIsCleaned(t *testing.T) {
	id := identityOf(inviteWith(t, `"  Pat `+strings.Repeat("x", 300)+`" <sip:+74951234567@192.0.2.1>`), false)
	require.Equal(t, "+74951234567", id.number)
	require.Equal(t, maxIdentityName, utf8.RuneCountInString(id.name))
	require.True(t, strings.HasPrefix(id.name, "Pat x"))
	id = identityOf(inviteWith(t, `<sip:caller1@192.0.2.1>`), true)
	require.Equal(t, identity{number: "caller1"}, id, "no display name: no name")
	id = identityOf(inviteWith(t, `"+74951234567" <sip:+74951234567@192.0.2.1>`), false)
	require.Equal(t, identity{number: "+74951234567"}, id, "a name that is the number is no name")
}

// A call from a trusted trunk shows P-Asserted-Identity's number and name;
// the same INVITE on an untrusted trunk shows From's.
func TestCallFromAssertedIdentity(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		f := startServer(t, func(c *Config) { c.Trunks[0].TrustAssertedIdentity = trusted })
		ph := newPhone(t, siptest.PhoneOptions{})
		call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{Headers: map[string]string{
			"P-Asserted-Identity": `"Pat Doe" <sip:+79123456789@carrier.example;user=phone>`,
		}})
		require.NoError(t, err)
		c := f.nextCall(t)
		if trusted {
			require.Equal(t, "+79123456789", c.From())
			require.Equal(t, "Pat Doe", c.CallerName())
		} else {
			require.NotEqual(t, "+79123456789", c.From())
			require.NotEqual(t, "Pat Doe", c.CallerName())
		}
		require.NoError(t, call.Hangup(t.Context()))
	}
}

func FuzzAssertedIdentity(f *testing.F) {
	for _, s := range []string{
		`"Pat Doe" <sip:+79123456789@carrier.example;user=phone>, <tel:+7-912-345-67-89>`,
		`<tel:+1-555-123-4567;cpc=ordinary>`, `sip:+74951234567@x;tag=1`, `"\"<>,"<sip:a@b>`, `<<"`, `%zz`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		number, name, ok := assertedIdentity([]string{v, v})
		if !ok {
			if number != "" {
				t.Fatalf("not ok but number %q", number)
			}
			return
		}
		if number == "" || len(number) > maxIdentityNumber || !utf8.ValidString(number) {
			t.Fatalf("bad number %q", number)
		}
		for _, r := range number {
			if !unicode.IsPrint(r) || unicode.IsSpace(r) {
				t.Fatalf("number %q has %q", number, r)
			}
		}
		if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxIdentityName || strings.ContainsFunc(name, unicode.IsControl) {
			t.Fatalf("bad name %q", name)
		}
	})
}
