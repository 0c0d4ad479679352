package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// TrunkAuth is a trunk's digest credentials (RFC 2617 / RFC 7616 / RFC 8760):
// an INVITE from the trunk must carry an Authorization for them.
type TrunkAuth struct {
	// Username the trunk authenticates as.
	Username string `yaml:"username"`
	// Realm sent in the challenge (default "hotline").
	Realm string `yaml:"realm"`
	// Password in clear; or PasswordFile, a file holding it (one line).
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// Algorithms offered, in order of preference: SHA-256 and/or MD5
	// (default both, SHA-256 first; a client takes the first it knows).
	Algorithms []string `yaml:"algorithms"`
}

// Digest algorithms.
const (
	AlgSHA256 = "SHA-256"
	AlgMD5    = "MD5"
)

// DefaultAuthNonceExpiry is how long a nonce is good for when Config.AuthNonceExpiry is 0.
const DefaultAuthNonceExpiry = 5 * time.Minute

// DropAuth: an INVITE with credentials that are wrong (bad response,
// unknown user, reused nonce count) was refused with 403.
const DropAuth = "auth"

// maxNonces bounds the nonces whose last nonce count we remember.
const maxNonces = 4096

// authenticator issues and checks digest nonces. A nonce is
// base64url(issued-at ‖ random ‖ HMAC-SHA256(key, issued-at ‖ random ‖ trunk)),
// so any nonce can be checked without state; only the highest nonce count
// seen per nonce is kept, in a bounded table. When the table is full the
// oldest entry goes and every nonce issued up to it is treated as stale
// (the client gets a fresh one), so forgetting never lets a replay in.
type authenticator struct {
	key    [32]byte // per process
	expiry time.Duration

	mu    sync.Mutex
	seen  map[string]uint32 // nonce → highest nc accepted
	order []string          // nonces in seen, oldest first
	floor int64             // nonces issued at or before this (Unix ns) and not in seen are stale
}

func newAuthenticator(expiry time.Duration) *authenticator {
	a := &authenticator{expiry: expiry, seen: map[string]uint32{}}
	if a.expiry <= 0 {
		a.expiry = DefaultAuthNonceExpiry
	}
	_, _ = rand.Read(a.key[:])
	return a
}

const nonceLen = 8 + 8 + 16

func (a *authenticator) mac(trunk string, b []byte) []byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:16])
	m.Write([]byte(trunk))
	return m.Sum(nil)[:16]
}

func (a *authenticator) nonce(trunk string, now time.Time) string {
	b := make([]byte, nonceLen)
	binary.BigEndian.PutUint64(b, uint64(now.UnixNano()))
	_, _ = rand.Read(b[8:16])
	copy(b[16:], a.mac(trunk, b))
	return base64.RawURLEncoding.EncodeToString(b)
}

// authOutcome is what to answer to an INVITE from a trunk with auth.
type authOutcome int

const (
	authOK        authOutcome = iota
	authChallenge             // 401 with a fresh nonce
	authStale                 // 401 with a fresh nonce and stale=true: the credentials were right
	authFailed                // 403
)

// check looks at the INVITE's Authorization headers for the trunk's realm.
// why says what was wrong for a log line.
func (a *authenticator) check(req *sip.Request, trunk string, cfg *TrunkAuth, password string, now time.Time) (authOutcome, string) {
	var cred *digest.Credentials
	for _, h := range req.GetHeaders("Authorization") {
		c, err := digest.ParseCredentials(h.Value())
		if err != nil {
			if digest.IsDigest(h.Value()) {
				return authFailed, "malformed Authorization"
			}
			continue
		}
		if c.Realm == cfg.Realm {
			cred = c
			break
		}
	}
	if cred == nil {
		return authChallenge, ""
	}
	alg := strings.ToUpper(cred.Algorithm)
	if alg == "" {
		alg = AlgMD5
	}
	offered := false
	for _, o := range cfg.Algorithms {
		offered = offered || o == alg
	}
	if !offered {
		return authChallenge, ""
	}
	if cred.Username != cfg.Username {
		return authFailed, "unknown username"
	}
	if cred.QOP != "auth" || cred.Nc <= 0 || cred.Nc > 1<<32-1 || cred.Cnonce == "" {
		return authFailed, "qop=auth with nc and cnonce required"
	}
	var u sip.Uri
	if err := sip.ParseUri(cred.URI, &u); err != nil || u.User != req.Recipient.User || !strings.EqualFold(u.Host, req.Recipient.Host) {
		return authFailed, "digest uri is not the Request-URI"
	}
	want, err := digest.Digest(&digest.Challenge{Realm: cfg.Realm, Nonce: cred.Nonce, Algorithm: alg, QOP: []string{"auth"}},
		digest.Options{Method: string(req.Method), URI: cred.URI, Username: cfg.Username, Password: password, Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil {
		return authFailed, err.Error()
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(cred.Response)), []byte(want.Response)) != 1 {
		return authFailed, "wrong response (password)"
	}
	b, err := base64.RawURLEncoding.DecodeString(cred.Nonce)
	if err != nil || len(b) != nonceLen || !hmac.Equal(b[16:], a.mac(trunk, b)) {
		return authStale, "" // right password, a nonce not ours (e.g. from before a restart)
	}
	issued := int64(binary.BigEndian.Uint64(b))
	if now.Sub(time.Unix(0, issued)) > a.expiry {
		return authStale, ""
	}
	return a.count(cred.Nonce, issued, uint32(cred.Nc))
}

// count accepts nc for nonce only if it is higher than any before it.
func (a *authenticator) count(nonce string, issued int64, nc uint32) (authOutcome, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	last, ok := a.seen[nonce]
	switch {
	case ok && nc <= last:
		return authFailed, "nonce count reused (replay)"
	case ok:
		a.seen[nonce] = nc
		return authOK, ""
	case issued <= a.floor:
		return authStale, ""
	}
	if len(a.order) >= maxNonces {
		old := a.order[0]
		a.order = a.order[1:]
		delete(a.seen, old)
		if b, err := base64.RawURLEncoding.DecodeString(old); err == nil && len(b) >= 8 {
			a.floor = max(a.floor, int64(binary.BigEndian.Uint64(b)))
		}
		if issued <= a.floor {
			return authStale, ""
		}
	}
	a.seen[nonce] = nc
	a.order = append(a.order, nonce)
	return authOK, ""
}

// challenges are the WWW-Authenticate headers of a 401: one per algorithm.
func (a *authenticator) challenges(trunk string, cfg *TrunkAuth, stale bool, now time.Time) []sip.Header {
	n := a.nonce(trunk, now)
	var hs []sip.Header
	for _, alg := range cfg.Algorithms {
		c := digest.Challenge{Realm: cfg.Realm, Nonce: n, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		hs = append(hs, sip.NewHeader("WWW-Authenticate", c.String()))
	}
	return hs
}
