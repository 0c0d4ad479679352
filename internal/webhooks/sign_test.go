package webhooks

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const testSecret = "whsec_0123456789abcdef"

// A known answer, computed outside Go:
// printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_0123456789abcdef
func TestSignKnownAnswer(t *testing.T) {
	require.Equal(t, "t=1700000000,v1=9f5e37cdc7ea587c7c02062d93283cad000d66a831b2a1676418696db47ed6c2",
		Sign(testSecret, time.Unix(1700000000, 0), []byte(`{"a":1}`)))
}

func signed(value string) http.Header {
	h := http.Header{}
	if value != "" {
		h.Set(HeaderSignature, value)
	}
	return h
}

func TestVerify(t *testing.T) {
	at := time.Unix(1700000000, 0)
	body := []byte(`{"id":"call:1:1","topic":"call.ringing"}`)
	good := Sign(testSecret, at, body)

	require.NoError(t, Verify(testSecret, signed(good), body, at, 0), "round trip")
	require.NoError(t, Verify(testSecret, signed(good), body, at.Add(DefaultWindow), 0), "the window's edge is inside")
	require.NoError(t, Verify(testSecret, signed(good), body, at.Add(-time.Minute), 0), "a clock a little behind")

	old := Sign("an-older-secret-1234", at, body)
	rotated := good + "," + old[strings.Index(old, "v1="):]
	require.NoError(t, Verify(testSecret, signed(rotated), body, at, 0), "any v1 may match (secret rotation)")
	require.NoError(t, Verify(testSecret, signed(strings.Replace(good, ",", ", ", 1)), body, at, 0), "a space after the comma")

	for name, tc := range map[string]struct {
		secret string
		header string
		body   string
		now    time.Time
		window time.Duration
		want   error
	}{
		"tampered body":      {testSecret, good, `{"id":"call:1:2","topic":"call.ringing"}`, at, 0, ErrSignatureMismatch},
		"wrong secret":       {"another-secret-0123", good, string(body), at, 0, ErrSignatureMismatch},
		"too old":            {testSecret, good, string(body), at.Add(DefaultWindow + time.Second), 0, ErrOutsideWindow},
		"too old for window": {testSecret, good, string(body), at.Add(11 * time.Second), 10 * time.Second, ErrOutsideWindow},
		"from the future":    {testSecret, good, string(body), at.Add(-DefaultWindow - time.Second), 0, ErrOutsideWindow},
		"replayed t":         {testSecret, strings.Replace(good, "t=1700000000", "t=1700000001", 1), string(body), at, 0, ErrSignatureMismatch},
		"no header":          {testSecret, "", string(body), at, 0, ErrNoSignature},
		"no v1":              {testSecret, "t=1700000000", string(body), at, 0, ErrMalformedHeader},
		"no t":               {testSecret, good[strings.Index(good, "v1="):], string(body), at, 0, ErrMalformedHeader},
		"short v1":           {testSecret, "t=1700000000,v1=abcd", string(body), at, 0, ErrMalformedHeader},
		"not hex":            {testSecret, "t=1700000000,v1=" + strings.Repeat("zz", 32), string(body), at, 0, ErrMalformedHeader},
		"t not a number":     {testSecret, "t=soon,v1=" + strings.Repeat("00", 32), string(body), at, 0, ErrMalformedHeader},
		"negative t":         {testSecret, "t=-9223372036854775808,v1=" + strings.Repeat("00", 32), string(body), at, 0, ErrMalformedHeader},
		"huge t":             {testSecret, "t=9223372036854775807,v1=" + strings.Repeat("00", 32), string(body), at, 0, ErrOutsideWindow},
		"garbage":            {testSecret, "sha256=abc", string(body), at, 0, ErrMalformedHeader},
		"two t":              {testSecret, "t=1,t=2,v1=" + strings.Repeat("00", 32), string(body), at, 0, ErrMalformedHeader},
	} {
		t.Run(name, func(t *testing.T) {
			err := Verify(tc.secret, signed(tc.header), []byte(tc.body), tc.now, tc.window)
			require.ErrorIs(t, err, tc.want)
		})
	}
}
