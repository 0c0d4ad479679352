package sip

// SDES (RFC 4568): SRTP keys carried in SDP a=crypto lines. A trunk's srtp
// setting says whether a call must, may or must not use them; the keys are
// only worth anything when the SIP messages carrying them are encrypted, so
// SRTP is negotiated only with an INVITE that came over TLS, unless the
// trunk says srtp_without_tls.

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hotline/hotline/internal/media"
)

// A trunk's SRTP modes.
const (
	SRTPOff      = "off"
	SRTPOptional = "optional"
	SRTPRequired = "required"
)

// cryptoAttr is one a=crypto line: "tag suite inline:key||salt[|lifetime]".
type cryptoAttr struct {
	Tag   int
	Suite media.SRTPSuite
	Key   []byte // master key and salt, media.SRTPKeyLen bytes
}

// suites are the crypto suites we accept, in our order of preference when
// we offer (the offerer's order wins when we answer).
var suites = [...]media.SRTPSuite{media.SRTPAES128SHA1_80, media.SRTPAES128SHA1_32}

func suiteByName(name string) (media.SRTPSuite, bool) {
	for _, s := range suites {
		if s.String() == name {
			return s, true
		}
	}
	return 0, false
}

// errUnsupportedCrypto is a well-formed line we cannot use (another suite,
// an MKI, several keys, session parameters).
var errUnsupportedCrypto = errors.New("unsupported")

// parseCrypto parses the value of an a=crypto attribute (RFC 4568 §9.1).
// A line we cannot use wraps errUnsupportedCrypto; a malformed one is
// another error.
func parseCrypto(v string) (cryptoAttr, error) {
	var c cryptoAttr
	f := strings.Fields(v)
	if len(f) < 3 {
		return c, errors.New("a=crypto needs a tag, a suite and key parameters")
	}
	if len(f[0]) > 9 {
		return c, fmt.Errorf("a=crypto tag %.12q is longer than 9 digits", f[0])
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || strings.ContainsAny(f[0], "+-") {
		return c, fmt.Errorf("a=crypto tag %.12q is not a number", f[0])
	}
	c.Tag = tag
	suite, ok := suiteByName(f[1])
	if !ok {
		return c, fmt.Errorf("a=crypto suite %.40q: %w", f[1], errUnsupportedCrypto)
	}
	c.Suite = suite
	if len(f) > 3 {
		return c, fmt.Errorf("a=crypto session parameter %.20q: %w", f[3], errUnsupportedCrypto)
	}
	if strings.Contains(f[2], ";") {
		return c, fmt.Errorf("a=crypto with several keys: %w", errUnsupportedCrypto)
	}
	info, ok := strings.CutPrefix(f[2], "inline:")
	if !ok {
		return c, errors.New("a=crypto key method is not inline:")
	}
	key, rest, _ := strings.Cut(info, "|")
	if rest != "" {
		lifetime, mki, hasMKI := strings.Cut(rest, "|")
		if strings.Contains(lifetime, ":") { // no lifetime, only an MKI
			mki, hasMKI = lifetime, true
		} else if !validLifetime(lifetime) {
			return c, fmt.Errorf("a=crypto lifetime %.20q is not a number or 2^n", lifetime)
		}
		if hasMKI {
			return c, fmt.Errorf("a=crypto MKI %.20q: %w", mki, errUnsupportedCrypto)
		}
	}
	b, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(key)
	}
	if err != nil {
		return c, errors.New("a=crypto key is not base64")
	}
	if len(b) != media.SRTPKeyLen {
		return c, fmt.Errorf("a=crypto key and salt are %d bytes, want %d", len(b), media.SRTPKeyLen)
	}
	c.Key = b
	return c, nil
}

// validLifetime accepts a key lifetime in packets: decimal or 2^decimal.
func validLifetime(s string) bool {
	s = strings.TrimPrefix(s, "2^")
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String formats the line's value with the key inline.
func (c cryptoAttr) String() string {
	return fmt.Sprintf("%d %s inline:%s", c.Tag, c.Suite, base64.StdEncoding.EncodeToString(c.Key))
}

// sdesState is a call's SRTP: our line (tag, suite, our key) and the key
// the peer sends with.
type sdesState struct {
	local  cryptoAttr
	remote []byte
	savp   bool // the offer's transport was RTP/SAVP (else RTP/AVP with a=crypto)
}

// newKey makes a random master key and salt.
func newKey() []byte {
	b := make([]byte, media.SRTPKeyLen)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

// chooseSRTP applies a trunk's srtp mode to an offer: a state to answer
// with SRTP, nil for plain RTP, or a 488. secure says the INVITE came over
// TLS, or the trunk allows SDES without it.
func chooseSRTP(mode string, secure bool, o offer) (*sdesState, error) {
	switch {
	case mode == "" || mode == SRTPOff:
		if o.SAVP {
			return nil, notAcceptable("SRTP is off on this trunk")
		}
		return nil, nil
	case !secure:
		if mode == SRTPRequired || o.SAVP {
			return nil, notAcceptable("SRTP keys are only exchanged over SIP over TLS on this trunk")
		}
		return nil, nil
	}
	if len(o.Crypto) == 0 {
		if mode == SRTPRequired || o.SAVP {
			return nil, notAcceptable("SRTP required: no usable a=crypto (we accept %s, %s, one inline key, no MKI)",
				suites[0], suites[1])
		}
		return nil, nil
	}
	peer := o.Crypto[0]
	return &sdesState{
		local:  cryptoAttr{Tag: peer.Tag, Suite: peer.Suite, Key: newKey()},
		remote: peer.Key,
		savp:   o.SAVP,
	}, nil
}

// cryptoFor is the offer's first usable key in suite, or nil.
func (o offer) cryptoFor(suite media.SRTPSuite) []byte {
	for _, c := range o.Crypto {
		if c.Suite == suite {
			return c.Key
		}
	}
	return nil
}
