package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a hotline-format delivery.
const (
	// HeaderEventID is the message's stable id; receivers de-duplicate by it.
	HeaderEventID = "Hotline-Event-Id"
	// HeaderEvent is the message's topic (call.ringing, ticket.updated, ...).
	HeaderEvent = "Hotline-Event"
	// HeaderSignature is "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
	// A receiver accepts the request when one v1 matches and t is within its
	// replay window. Every attempt is signed afresh, so a retry hours later
	// still carries a current t.
	HeaderSignature = "Hotline-Signature"
)

// DefaultWindow is how far a signature's time may be from the receiver's
// clock, either way, when Verify is given no window.
const DefaultWindow = 5 * time.Minute

// Errors Verify returns (wrapped with detail); branch with errors.Is.
var (
	ErrNoSignature       = errors.New("webhooks: no " + HeaderSignature + " header")
	ErrMalformedHeader   = errors.New("webhooks: malformed " + HeaderSignature + " header")
	ErrOutsideWindow     = errors.New("webhooks: signature timestamp outside the replay window")
	ErrSignatureMismatch = errors.New("webhooks: signature does not match the body")
)

// Sign returns the HeaderSignature value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks the HeaderSignature of a received delivery: its timestamp
// must be within window of now (DefaultWindow when window <= 0), and one of
// its v1 values must be the HMAC of "<t>.<body>" under secret (compared in
// constant time). The error wraps ErrNoSignature, ErrMalformedHeader,
// ErrOutsideWindow or ErrSignatureMismatch.
func Verify(secret string, header http.Header, body []byte, now time.Time, window time.Duration) error {
	if window <= 0 {
		window = DefaultWindow
	}
	value := header.Get(HeaderSignature)
	if value == "" {
		return ErrNoSignature
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(value, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: %q is not key=value", ErrMalformedHeader, part)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: two t= values", ErrMalformedHeader)
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return fmt.Errorf("%w: v1 is not a hex SHA-256 HMAC", ErrMalformedHeader)
			}
			sigs = append(sigs, sig)
		}
		// Other keys (future schemes) are ignored.
	}
	if ts == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: want t=<unix seconds>,v1=<hex>", ErrMalformedHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < 0 {
		return fmt.Errorf("%w: t=%q is not unix seconds", ErrMalformedHeader, ts)
	}
	// Compare in seconds: a time.Duration of an absurd t would overflow.
	if skew := now.Unix() - sec; skew > int64(window/time.Second) || -skew > int64(window/time.Second) {
		return fmt.Errorf("%w: signed at %s, %s from now (window %s)", ErrOutsideWindow,
			time.Unix(sec, 0).UTC().Format(time.RFC3339), skewText(skew), window)
	}
	want := mac(secret, ts, body)
	ok := 0
	for _, sig := range sigs {
		ok |= subtle.ConstantTimeCompare(sig, want) // every v1 is compared
	}
	if ok == 0 {
		return ErrSignatureMismatch
	}
	return nil
}

func skewText(sec int64) string {
	if sec < 0 {
		return "in the future by " + strconv.FormatInt(-sec, 10) + "s"
	}
	return strconv.FormatInt(sec, 10) + "s old"
}
