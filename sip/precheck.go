package sip

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// precheck looks at one whole raw request before sipgo parses it. sipgo's
// parser accepts some invalid requests (RFC 4475 §3.1.2: duplicated
// singleton headers, overlarge numbers, a CSeq for another method, URIs in
// the wrong place) and silently drops or misreads others; precheck refuses
// the invalid ones with a stateless answer, and rewrites valid ones into the
// equivalent form sipgo reads correctly (folded header lines joined, LWS
// around the ; = / separators removed, RFC 2543 requests given a branch).
//
// Responses pass unchanged: sipgo drops those that match no transaction.
type verdict struct {
	msg   []byte // what sipgo gets; nil drops the message
	reply []byte // a stateless answer to send back, or nil
	code  int    // the answer's status code (0 when none is due)
	why   string // why the request was refused
}

// maxCSeq is the largest CSeq number (RFC 3261 §8.1.1.5: less than 2**31).
const maxCSeq = 1<<31 - 1

// precheck checks msg; stream is true for TCP, where the framer already cut
// the message at its Content-Length.
func precheck(msg []byte, stream bool) verdict {
	if bytes.HasPrefix(msg, []byte("SIP/")) || len(bytes.TrimLeft(msg, "\r\n")) == 0 {
		return verdict{msg: msg}
	}
	headEnd, sepLen := bytes.Index(msg, []byte("\r\n\r\n")), 4
	if headEnd < 0 {
		if headEnd, sepLen = bytes.Index(msg, []byte("\n\n")), 2; headEnd < 0 {
			return verdict{msg: msg} // not a message sipgo can read either
		}
	}
	body := msg[headEnd+sepLen:]
	rq := &rawRequest{}
	changed := rq.split(string(msg[:headEnd]))
	refuse := func(code int, why string) verdict {
		return verdict{reply: rq.reply(code, why), code: code, why: why}
	}
	if why := rq.badHeaderName; why != "" {
		return refuse(400, why)
	}
	if code, why := rq.checkStartLine(); code != 0 {
		return refuse(code, why)
	}
	if code, why := rq.checkHeaders(); code != 0 {
		return refuse(code, why)
	}
	if h := rq.get("content-length"); h != nil {
		n, ok := number(h.value, maxFramedBody)
		if !ok {
			return refuse(400, "bad Content-Length")
		}
		if !stream {
			// RFC 3261 §18.3: over UDP a longer Content-Length is an
			// error, and octets past it are discarded.
			if n > len(body) {
				return refuse(400, "Content-Length larger than the message")
			}
			if n < len(body) {
				body, changed = body[:n], true
			}
		}
	}
	if rq.needsBranch() {
		changed = true
	}
	if !changed {
		return verdict{msg: msg}
	}
	return verdict{msg: rq.build(body)}
}

type rawHeader struct {
	name  string // as sent
	key   string // lower case, compact form expanded
	value string
}

type rawRequest struct {
	line          string
	method, uri   string
	headers       []rawHeader
	badHeaderName string
}

// compact maps RFC 3261 §7.3.3 compact header names to full ones.
var compact = map[string]string{
	"i": "call-id", "f": "from", "t": "to", "l": "content-length", "c": "content-type",
	"v": "via", "m": "contact", "e": "content-encoding", "k": "supported", "s": "subject",
}

// split reads the start line and the header lines, joining folded lines
// (RFC 3261 §7.3.1: a line starting with whitespace continues the previous
// one), and reports whether anything will be written differently.
func (r *rawRequest) split(head string) (changed bool) {
	lines := strings.Split(head, "\n")
	r.line = strings.TrimSuffix(lines[0], "\r")
	var cur []string
	flush := func() {
		if len(cur) == 0 {
			return
		}
		l := strings.Join(cur, " ")
		cur = cur[:0]
		name, value, ok := strings.Cut(l, ":")
		name = strings.TrimRight(name, " \t")
		if !ok || !isToken(name) {
			if r.badHeaderName == "" {
				r.badHeaderName = "malformed header line"
			}
			return
		}
		key := strings.ToLower(name)
		if full, ok := compact[key]; ok {
			key = full
		}
		r.headers = append(r.headers, rawHeader{name: name, key: key, value: strings.Trim(value, " \t")})
	}
	for _, l := range lines[1:] {
		l = strings.TrimSuffix(l, "\r")
		if l != "" && (l[0] == ' ' || l[0] == '\t') && len(cur) > 0 {
			cur[len(cur)-1] = strings.TrimRight(cur[len(cur)-1], " \t")
			cur = append(cur, strings.Trim(l, " \t"))
			changed = true
			continue
		}
		flush()
		cur = append(cur, l)
	}
	flush()
	for i := range r.headers {
		h := &r.headers[i]
		switch h.key {
		case "via", "from", "to", "contact", "route", "record-route":
			if t := tighten(h.value, h.key == "via"); t != h.value {
				h.value, changed = t, true
			}
		}
	}
	return changed
}

func (r *rawRequest) get(key string) *rawHeader {
	for i := range r.headers {
		if r.headers[i].key == key {
			return &r.headers[i]
		}
	}
	return nil
}

// checkStartLine checks `Method SP Request-URI SP SIP-Version` (RFC 3261
// §7.1: single spaces, nothing after the version). The version itself is
// left to the handler, which answers 505.
func (r *rawRequest) checkStartLine() (int, string) {
	parts := strings.Split(r.line, " ")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" || strings.ContainsAny(r.line, "\t") {
		return 400, "malformed Request-Line"
	}
	r.method, r.uri = parts[0], parts[1]
	if !isToken(r.method) {
		return 400, "malformed method"
	}
	if r.uri[0] == '<' || strings.ContainsAny(r.uri, "<>\"") {
		return 400, "malformed Request-URI"
	}
	scheme, rest, ok := strings.Cut(r.uri, ":")
	if !ok || !isScheme(scheme) {
		return 400, "malformed Request-URI"
	}
	switch strings.ToLower(scheme) {
	case "sip", "sips":
	default:
		return 416, "Unsupported URI Scheme"
	}
	host := rest
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		host = rest[i+1:]
	}
	if strings.Contains(host, "?") {
		// RFC 3261 §19.1.5: headers are not allowed in a Request-URI.
		return 400, "Request-URI with headers"
	}
	return 0, ""
}

// singletons may appear once (RFC 3261 §7.3.1: only list headers repeat).
var singletons = []string{"call-id", "from", "to", "cseq", "max-forwards", "content-length", "content-type"}

func (r *rawRequest) checkHeaders() (int, string) {
	seen := map[string]int{}
	for _, h := range r.headers {
		seen[h.key]++
	}
	for _, k := range singletons {
		if seen[k] > 1 {
			return 400, "multiple " + canonical(k) + " header fields"
		}
	}
	if r.method != "ACK" {
		for _, k := range []string{"from", "to", "call-id", "cseq", "via"} {
			if seen[k] == 0 {
				return 400, "missing " + canonical(k)
			}
		}
	}
	for _, h := range r.headers {
		switch h.key {
		case "cseq":
			num, method, _ := strings.Cut(h.value, " ")
			if _, ok := number(num, maxCSeq); !ok {
				return 400, "bad CSeq number"
			}
			if strings.Trim(method, " \t") != r.method {
				return 400, "CSeq method does not match the request"
			}
		case "max-forwards":
			if _, ok := number(h.value, 255); !ok {
				return 400, "bad Max-Forwards"
			}
		case "expires":
			if _, ok := number(h.value, 1<<32-1); !ok {
				return 400, "bad Expires"
			}
		case "date":
			// RFC 3261 §20.17: rfc1123-date, always GMT.
			if _, err := time.Parse(time.RFC1123, h.value); err != nil || !strings.HasSuffix(h.value, " GMT") {
				return 400, "bad Date"
			}
		case "via":
			for _, v := range splitList(h.value) {
				if !goodVia(v) {
					return 400, "malformed Via"
				}
			}
		case "from", "to", "contact", "route", "record-route", "reply-to":
			if h.key == "contact" && h.value == "*" {
				continue
			}
			vals := splitList(h.value)
			if (h.key == "from" || h.key == "to") && len(vals) != 1 {
				return 400, "malformed " + canonical(h.key)
			}
			for _, v := range vals {
				if why := checkNameAddr(v); why != "" {
					return 400, why + " in " + canonical(h.key)
				}
			}
		}
	}
	return 0, ""
}

// needsBranch gives an RFC 2543 request (no z9hG4bK branch and no From
// tag, so sipgo can make no transaction key for it) a branch derived from
// the fields RFC 3261 §17.2.3 matches such requests by; the ACK and CANCEL
// of the same INVITE get the same branch.
func (r *rawRequest) needsBranch() bool {
	var via, from *rawHeader
	for i := range r.headers {
		switch h := &r.headers[i]; {
		case h.key == "via" && via == nil:
			via = h
		case h.key == "from" && from == nil:
			from = h
		}
	}
	cseqH, cid := r.get("cseq"), r.get("call-id")
	if via == nil || from == nil || cseqH == nil || cid == nil || hasParam(from.value, "tag") {
		return false
	}
	top, rest, _ := strings.Cut(via.value, ",")
	if hasParam(top, "branch") {
		return false
	}
	cseq, _, _ := strings.Cut(cseqH.value, " ")
	sum := sha256.Sum256([]byte(r.uri + "\x00" + cid.value + "\x00" + cseq + "\x00" + top))
	top += ";branch=z9hG4bK-2543-" + hex.EncodeToString(sum[:8])
	if rest != "" {
		top += "," + rest
	}
	via.value = top
	return true
}

func (r *rawRequest) build(body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(r.line)
	b.WriteString("\r\n")
	for _, h := range r.headers {
		b.WriteString(h.name)
		b.WriteString(": ")
		b.WriteString(h.value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// reply builds a stateless answer from the request's own Via, From, To,
// Call-ID and CSeq. There is none for an ACK, nor without a Via to send it by.
func (r *rawRequest) reply(code int, why string) []byte {
	if strings.HasPrefix(r.line, "ACK ") || r.get("via") == nil {
		return nil
	}
	reason := "Bad Request: " + why
	switch code {
	case 416:
		reason = why
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 " + strconv.Itoa(code) + " " + reason + "\r\n")
	for _, h := range r.headers {
		switch h.key {
		case "via", "from", "call-id", "cseq":
			b.WriteString(canonical(h.key) + ": " + h.value + "\r\n")
		case "to":
			v := h.value
			if !hasParam(v, "tag") {
				v += ";tag=" + rand.Text()[:10]
			}
			b.WriteString("To: " + v + "\r\n")
		}
	}
	b.WriteString("Server: hotline\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

func canonical(key string) string {
	switch key {
	case "call-id":
		return "Call-ID"
	case "cseq":
		return "CSeq"
	}
	parts := strings.Split(key, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// number parses a run of 1 to 10 digits no greater than max.
func number(s string, max int) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= max
}

// isToken reports whether s is an RFC 3261 §25.1 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0
}

func isScheme(s string) bool {
	if s == "" || !('a' <= s[0]|0x20 && s[0]|0x20 <= 'z') {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// tighten removes the optional whitespace around ; = , (and / in a Via)
// outside quoted strings and <>, which RFC 3261 §25.1 allows (SEMI, EQUAL,
// COMMA, SLASH) and sipgo does not read.
func tighten(v string, via bool) string {
	var b strings.Builder
	inQuote, inAngle, pendingSpace := false, false, false
	sep := func(c byte) bool { return c == ';' || c == '=' || c == ',' || via && c == '/' }
	last := byte(0)
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inQuote:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(v) {
				i++
				b.WriteByte(v[i])
			} else if c == '"' {
				inQuote = false
			}
			last = c
			continue
		case inAngle:
			b.WriteByte(c)
			if c == '>' {
				inAngle = false
			}
			last = c
			continue
		case c == ' ' || c == '\t':
			pendingSpace = true
			continue
		}
		if pendingSpace && !sep(c) && !sep(last) && last != 0 {
			b.WriteByte(' ')
		}
		pendingSpace = false
		b.WriteByte(c)
		switch c {
		case '"':
			inQuote = true
		case '<':
			inAngle = true
		}
		last = c
	}
	return b.String()
}

// splitList splits a header value at commas outside quotes and <>.
func splitList(v string) []string {
	var out []string
	inQuote, inAngle, start := false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case inQuote:
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case c == ',' && !inAngle:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(v[start:]))
}

// goodVia checks one (tightened) via-parm: SIP/2.0/transport sent-by *(;param).
func goodVia(v string) bool {
	proto, rest, ok := strings.Cut(v, " ")
	p := strings.Split(proto, "/")
	if !ok || len(p) != 3 || !isToken(p[0]) || !isToken(p[1]) || !isToken(p[2]) {
		return false
	}
	sentBy, params, _ := strings.Cut(rest, ";")
	if sentBy == "" || strings.ContainsAny(sentBy, " \t") {
		return false
	}
	return goodParams(params, strings.Contains(rest, ";"))
}

// goodParams checks `name[=value]` params separated by ';' (none empty).
func goodParams(params string, present bool) bool {
	if !present {
		return true
	}
	for _, p := range strings.Split(params, ";") {
		name, _, _ := strings.Cut(p, "=")
		if !isToken(name) {
			return false
		}
	}
	return true
}

// checkNameAddr checks one (name-addr / addr-spec) *(;param) value and
// returns what is wrong with it, or "".
func checkNameAddr(v string) string {
	if v == "" {
		return "empty value"
	}
	lt := -1
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' {
			end := closingQuote(v, i+1)
			if end < 0 {
				return "unterminated quoted string"
			}
			i = end
			continue
		}
		if c == '<' {
			lt = i
			break
		}
	}
	var params string
	if lt >= 0 {
		display := strings.TrimSpace(v[:lt])
		if display != "" && display[0] != '"' {
			for _, w := range strings.Fields(display) {
				if !isToken(w) {
					return "malformed display name"
				}
			}
		}
		gt := strings.IndexByte(v[lt:], '>')
		if gt < 0 {
			return "unterminated <"
		}
		spec := v[lt+1 : lt+gt]
		if spec == "" || strings.ContainsAny(spec, " \t<\"") {
			return "malformed addr-spec"
		}
		params = v[lt+gt+1:]
	} else {
		spec := v
		if i := strings.IndexByte(v, ';'); i >= 0 {
			spec, params = v[:i], v[i:]
		}
		if !strings.Contains(spec, ":") || strings.ContainsAny(spec, " \t\"<>") {
			return "malformed addr-spec"
		}
		if strings.Contains(spec, "?") {
			// RFC 3261 §20: a URI with headers must be enclosed in <>.
			return "URI with headers outside <>"
		}
	}
	if params == "" {
		return ""
	}
	if params[0] != ';' || !goodParams(params[1:], true) {
		return "malformed parameters"
	}
	return ""
}

func closingQuote(v string, from int) int {
	for i := from; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// hasParam reports whether the header value has ;name (outside quotes and <>).
func hasParam(v, name string) bool {
	inQuote, inAngle := false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case inQuote:
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case c == ';' && !inAngle:
			p := v[i+1:]
			if j := strings.IndexAny(p, ";,"); j >= 0 {
				p = p[:j]
			}
			k, _, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), name) {
				return true
			}
		}
	}
	return false
}
