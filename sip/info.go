package sip

import (
	"errors"
	"fmt"
	"mime"
	"strings"
)

// Content types of SIP INFO DTMF bodies we understand.
const (
	ctDTMFRelay = "application/dtmf-relay" // "Signal=5\r\nDuration=160\r\n"
	ctDTMF      = "application/dtmf"       // "5"
)

// errNotDTMF marks an INFO whose content type is not a DTMF body (answered 415).
var errNotDTMF = errors.New("not a dtmf content type")

// parseINFO returns the key carried by a SIP INFO DTMF body. The key is one of
// 0-9, *, #, A-D. errNotDTMF means the content type is not a DTMF one; any
// other error means the body is malformed.
func parseINFO(contentType string, body []byte) (byte, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch mt {
	case ctDTMFRelay:
		for line := range strings.Lines(string(body)) {
			k, v, ok := strings.Cut(line, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "signal") {
				continue
			}
			return dtmfKey(strings.TrimSpace(v))
		}
		return 0, fmt.Errorf("dtmf-relay body has no Signal= line")
	case ctDTMF:
		return dtmfKey(strings.TrimSpace(string(body)))
	}
	return 0, errNotDTMF
}

// dtmfKey maps a signal text to a key: one of the 16 DTMF characters, or the
// RFC 4733 event numbers 10-15 that some gateways send instead.
func dtmfKey(s string) (byte, error) {
	switch s {
	case "10":
		return '*', nil
	case "11":
		return '#', nil
	case "12", "13", "14", "15":
		return 'A' + s[1] - '2', nil
	}
	if len(s) != 1 {
		return 0, fmt.Errorf("dtmf signal %q is not a single key", s)
	}
	c := s[0]
	switch {
	case c >= '0' && c <= '9', c == '*', c == '#':
		return c, nil
	case c >= 'A' && c <= 'D':
		return c, nil
	case c >= 'a' && c <= 'd':
		return c - 'a' + 'A', nil
	}
	return 0, fmt.Errorf("dtmf signal %q is not a DTMF key", s)
}
