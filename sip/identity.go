package sip

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"
)

// Bounds of a caller identity: a longer number is not a number, a longer
// name is cut.
const (
	maxIdentityNumber = 64
	maxIdentityName   = 100
	// maxIdentityValues bounds how many P-Asserted-Identity values are
	// looked at (RFC 3325 allows two: a sip and a tel URI).
	maxIdentityValues = 4
)

// identity is who is calling as the hotline shows it: the number (a SIP
// user part or a tel number) and the display name, "" when not given.
type identity struct {
	number string
	name   string
	// asserted is set when both came from P-Asserted-Identity.
	asserted bool
}

// identityOf reads the caller's identity from an INVITE. When the trunk is
// trusted to assert identities (TrunkConfig.TrustAssertedIdentity) and the
// INVITE has a P-Asserted-Identity (RFC 3325) with a usable sip, sips or
// tel URI, the number is that URI's and the name its display name (else
// From's). Otherwise both come from From, the number as Call.From always
// read it. A P-Asserted-Identity that cannot be read is ignored; a name
// that is only the number is dropped.
func identityOf(req *sip.Request, trusted bool) identity {
	id := identity{}
	from := req.From()
	if from != nil {
		id.number = userOrURI(from.Address)
		id.name = cleanName(from.DisplayName)
	}
	if trusted {
		id = assertedOver(id, req)
	}
	if id.name == id.number {
		id.name = "" // a display name that repeats the number tells nothing
	}
	return id
}

// assertedOver is id with the number and name of req's
// P-Asserted-Identity, when it has a usable one.
func assertedOver(id identity, req *sip.Request) identity {
	var values []string
	for _, h := range req.GetHeaders("P-Asserted-Identity") {
		values = append(values, h.Value())
	}
	if number, name, ok := assertedIdentity(values); ok {
		id.number, id.asserted = number, true
		if name != "" {
			id.name = name
		}
	}
	return id
}

// assertedIdentity reads P-Asserted-Identity header values: the number of
// the first value with a usable URI and the first display name given. ok
// is false when no value has a usable number.
func assertedIdentity(values []string) (number, name string, ok bool) {
	seen := 0
	for _, v := range values {
		for _, entry := range splitAddresses(v) {
			if seen == maxIdentityValues {
				return number, name, number != ""
			}
			seen++
			display, uri, good := parseAddress(entry)
			if !good {
				continue
			}
			n := uriNumber(uri)
			if n == "" {
				continue
			}
			if number == "" {
				number = n
			}
			if name == "" {
				name = cleanName(display)
			}
		}
	}
	return number, name, number != ""
}

// splitAddresses splits a header value at the commas that are outside
// quoted strings and angle brackets.
func splitAddresses(v string) []string {
	var out []string
	inQuote, inAngle, escaped := false, false, false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"' && !inAngle:
			inQuote = !inQuote
		case inQuote:
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case c == ',' && !inAngle:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// parseAddress reads one name-addr (`"Name" <uri>`, `Name <uri>`) or
// addr-spec (a bare URI, whose parameters are the header's).
func parseAddress(s string) (display, uri string, ok bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		i := 1
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
				continue
			}
			if c == '"' {
				break
			}
			b.WriteByte(c)
		}
		if i >= len(s) {
			return "", "", false // unterminated quote
		}
		display, s = b.String(), s[i+1:]
		lt := strings.IndexByte(s, '<')
		if lt < 0 || strings.TrimSpace(s[:lt]) != "" {
			return "", "", false
		}
		s = s[lt:]
	}
	if lt := strings.IndexByte(s, '<'); lt >= 0 {
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			return "", "", false
		}
		if display == "" {
			display = strings.TrimSpace(s[:lt])
		}
		return display, strings.TrimSpace(s[lt+1 : lt+gt]), true
	}
	if display != "" || strings.ContainsAny(s, " \t") {
		return "", "", false
	}
	if semi := strings.IndexByte(s, ';'); semi >= 0 {
		s = s[:semi] // an addr-spec's parameters belong to the header
	}
	return "", s, s != ""
}

// uriNumber is the calling number in a sip, sips or tel URI: the user part
// (without user parameters or password, percent-decoded) or the tel
// number without visual separators; "" when there is none or it is not
// printable.
func uriNumber(uri string) string {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok {
		return ""
	}
	var n string
	switch strings.ToLower(scheme) {
	case "sip", "sips":
		user, _, hasUser := strings.Cut(rest, "@")
		if !hasUser {
			return ""
		}
		user, _, _ = strings.Cut(user, ";")
		user, _, _ = strings.Cut(user, ":")
		if u, err := url.PathUnescape(user); err == nil {
			user = u
		}
		n = user
	case "tel":
		n, _, _ = strings.Cut(rest, ";")
		n = strings.Map(func(r rune) rune {
			if strings.ContainsRune("-.() ", r) {
				return -1
			}
			return r
		}, n)
	default:
		return ""
	}
	if n == "" || len(n) > maxIdentityNumber || !utf8.ValidString(n) {
		return ""
	}
	for _, r := range n {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return ""
		}
	}
	return n
}

// cleanName makes a display name safe to show: valid UTF-8, no control
// characters, trimmed, at most maxIdentityName characters.
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxIdentityName {
		s = strings.TrimSpace(string([]rune(s)[:maxIdentityName]))
	}
	return s
}
