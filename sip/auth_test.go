package sip

import (
	"encoding/base64"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline/hotline/sip/siptest"
	"github.com/icholy/digest"
	"github.com/stretchr/testify/require"
)

func authServer(t *testing.T, auth TrunkAuth, expiry time.Duration) *fixture {
	t.Helper()
	return startServer(t, func(c *Config) {
		c.AuthNonceExpiry = expiry
		c.Trunks = []TrunkConfig{{Name: "carrier", Flow: "demo", Auth: &auth}}
	})
}

// challengesOf sends msg over UDP and returns the final answer's code and
// its WWW-Authenticate challenges.
func challengesOf(t *testing.T, to netip.AddrPort, msg string) (int, []*digest.Challenge) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer conn.Close()
	msg = strings.ReplaceAll(msg, "LOCAL", conn.LocalAddr().String())
	_, err = conn.WriteTo([]byte(msg), net.UDPAddrFromAddrPort(to))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 4096)
	for {
		n, _, err := conn.ReadFrom(buf)
		require.NoError(t, err, "no final response")
		m := string(buf[:n])
		if r := parseRaw(t, m); r.code >= 200 {
			var chals []*digest.Challenge
			for line := range strings.Lines(m) {
				if v, ok := strings.CutPrefix(line, "WWW-Authenticate: "); ok {
					c, err := digest.ParseChallenge(strings.TrimSpace(v))
					require.NoError(t, err, "challenge %q", v)
					chals = append(chals, c)
				}
			}
			return r.code, chals
		}
	}
}

// authInvite is an INVITE whose offer has no codec we take: once past
// authentication it gets 488, so no call is set up.
func authInvite(t *testing.T, cred *digest.Credentials) string {
	msg := invite(t, "sip:100@x", offerSDP("18"))
	if cred != nil {
		msg = strings.Replace(msg, "Content-Length:", "Authorization: "+cred.String()+"\r\nContent-Length:", 1)
	}
	return msg
}

func credentials(t *testing.T, chal *digest.Challenge, password string, nc int) *digest.Credentials {
	t.Helper()
	cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: "sip:100@127.0.0.1", Username: "carrier1", Password: password, Count: nc})
	require.NoError(t, err)
	return cred
}

func TestDigestAuth(t *testing.T) {
	f := authServer(t, TrunkAuth{Username: "carrier1", Password: "s3cret"}, 700*time.Millisecond)
	a := f.srv.Addr()

	code, chals := challengesOf(t, a, authInvite(t, nil))
	require.Equal(t, 401, code)
	require.Len(t, chals, 2, "one challenge per algorithm")
	require.Equal(t, "SHA-256", chals[0].Algorithm, "preferred first")
	require.Equal(t, "MD5", chals[1].Algorithm)
	for _, c := range chals {
		require.Equal(t, "hotline", c.Realm)
		require.Equal(t, []string{"auth"}, c.QOP)
		require.NotEmpty(t, c.Nonce)
		require.False(t, c.Stale)
	}
	require.Zero(t, f.obs.droppedN(DropAuth), "a challenge is no failure")

	t.Run("correct credentials connect", func(t *testing.T) {
		for _, tr := range []string{"udp", "tcp"} {
			call, err := newPhone(t, siptest.PhoneOptions{Transport: tr}).Dial(t.Context(), f.uri,
				siptest.DialOptions{Username: "carrier1", Password: "s3cret"})
			require.NoError(t, err, tr)
			c := f.nextCall(t)
			require.Equal(t, "carrier", c.Trunk().Name)
			require.NoError(t, call.WaitTone(t.Context(), toneHz, 200*time.Millisecond))
			require.NoError(t, call.Hangup(t.Context()))
		}
	})
	t.Run("wrong password is 403 and counted", func(t *testing.T) {
		before := f.obs.droppedN(DropAuth)
		_, err := newPhone(t, siptest.PhoneOptions{}).Dial(t.Context(), f.uri,
			siptest.DialOptions{Username: "carrier1", Password: "guess"})
		requireCode(t, err, 403)
		require.Equal(t, before+1, f.obs.droppedN(DropAuth))
	})
	t.Run("nonce count must increase", func(t *testing.T) {
		before := f.obs.droppedN(DropAuth)
		for _, alg := range []int{0, 1} {
			_, chals := challengesOf(t, a, authInvite(t, nil)) // both share one nonce: a fresh one each
			chal := chals[alg]
			code, _ := challengesOf(t, a, authInvite(t, credentials(t, chal, "s3cret", 1)))
			require.Equal(t, 488, code, "%s: past auth", chal.Algorithm)
			code, _ = challengesOf(t, a, authInvite(t, credentials(t, chal, "s3cret", 1)))
			require.Equal(t, 403, code, "%s: the same nc again is a replay", chal.Algorithm)
			code, _ = challengesOf(t, a, authInvite(t, credentials(t, chal, "s3cret", 2)))
			require.Equal(t, 488, code, "%s: the next nc is fine", chal.Algorithm)
		}
		require.Equal(t, before+2, f.obs.droppedN(DropAuth))
	})
	t.Run("expired or foreign nonce is stale", func(t *testing.T) {
		_, chals := challengesOf(t, a, authInvite(t, nil))
		time.Sleep(800 * time.Millisecond)
		code, fresh := challengesOf(t, a, authInvite(t, credentials(t, chals[0], "s3cret", 1)))
		require.Equal(t, 401, code)
		require.True(t, fresh[0].Stale, "stale=true on an expired nonce")
		require.NotEqual(t, chals[0].Nonce, fresh[0].Nonce)

		foreign := *chals[0]
		foreign.Nonce = "bm90LW91cnMtYXQtYWxs"
		code, fresh = challengesOf(t, a, authInvite(t, credentials(t, &foreign, "s3cret", 1)))
		require.Equal(t, 401, code)
		require.True(t, fresh[0].Stale, "right password on a nonce not ours (a restart): stale")
		code, _ = challengesOf(t, a, authInvite(t, credentials(t, &foreign, "wrong", 1)))
		require.Equal(t, 403, code)
	})
}

func TestDigestAuthMD5OnlyAndACLInFront(t *testing.T) {
	f := startServer(t, func(c *Config) {
		c.Trunks = []TrunkConfig{{Name: "lan", Allow: []string{"127.0.0.0/8"}, Flow: "demo",
			Auth: &TrunkAuth{Username: "carrier1", Realm: "pbx.example", Password: "pw", Algorithms: []string{AlgMD5}}}}
	})
	code, chals := challengesOf(t, f.srv.Addr(), authInvite(t, nil))
	require.Equal(t, 401, code)
	require.Len(t, chals, 1)
	require.Equal(t, "MD5", chals[0].Algorithm)
	require.Equal(t, "pbx.example", chals[0].Realm)
	call, err := newPhone(t, siptest.PhoneOptions{}).Dial(t.Context(), f.uri, siptest.DialOptions{Username: "carrier1", Password: "pw"})
	require.NoError(t, err)
	f.nextCall(t)
	require.NoError(t, call.Hangup(t.Context()))

	g := startServer(t, func(c *Config) {
		c.Trunks = []TrunkConfig{{Name: "lan", Allow: []string{"10.0.0.0/8"}, Flow: "demo",
			Auth: &TrunkAuth{Username: "carrier1", Password: "pw"}}}
	})
	code, _ = challengesOf(t, g.srv.Addr(), authInvite(t, nil))
	require.Equal(t, 403, code, "a source outside the ACL is refused before any challenge")
	require.Equal(t, 1, g.obs.droppedN(DropACL))
}

// The nonce table is bounded; a nonce forgotten to make room is stale, never replayable.
func TestAuthenticatorForgetsSafely(t *testing.T) {
	a := newAuthenticator(time.Hour)
	now := time.Now()
	first := a.nonce("t", now)
	b := func(n string) int64 {
		out, _ := a.count(n, issuedAt(t, n), 1)
		return int64(out)
	}
	require.Equal(t, int64(authOK), b(first))
	for i := range maxNonces {
		require.Equal(t, int64(authOK), b(a.nonce("t", now.Add(time.Duration(i+1)))))
	}
	require.Len(t, a.seen, maxNonces)
	out, _ := a.count(first, issuedAt(t, first), 2)
	require.Equal(t, authStale, out, "forgotten: stale, so the client asks afresh")
}

func issuedAt(t *testing.T, n string) int64 {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(n)
	require.NoError(t, err)
	return int64(binary.BigEndian.Uint64(b))
}

func TestTrunkAuthConfig(t *testing.T) {
	cfg := func(a TrunkAuth) Config {
		c := DefaultConfig()
		c.Trunks[0].Auth = &a
		return c
	}
	for _, tc := range []struct {
		auth TrunkAuth
		want string
	}{
		{TrunkAuth{Password: "x"}, "auth.username: is empty"},
		{TrunkAuth{Username: "u"}, "set exactly one of password and password_file"},
		{TrunkAuth{Username: "u", Password: "x", PasswordFile: "/f"}, "set exactly one"},
		{TrunkAuth{Username: "u", Password: "x", Algorithms: []string{"SHA-512"}}, `"SHA-512" is not SHA-256 or MD5`},
		{TrunkAuth{Username: `u"`, Password: "x"}, "must not hold quotes"},
	} {
		c := cfg(tc.auth)
		require.ErrorContains(t, c.Validate(), tc.want)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("from-file\n"), 0o600))
	c := cfg(TrunkAuth{Username: "u", PasswordFile: pw})
	require.NoError(t, c.Validate())
	tt, err := newTrunkTable(c.Trunks)
	require.NoError(t, err)
	require.Equal(t, "from-file", tt[0].password)
	require.Equal(t, "hotline", tt[0].cfg.Auth.Realm)
	require.Empty(t, tt[0].cfg.Auth.Password, "the password is not kept in the config the call sees")
	c = cfg(TrunkAuth{Username: "u", PasswordFile: pw + ".missing"})
	_, err = newTrunkTable(c.Trunks)
	require.Error(t, err)
}
