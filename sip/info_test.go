package sip

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseINFO(t *testing.T) {
	for _, tc := range []struct {
		ct, body string
		key      byte
		err      string
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', ""},
		{"Application/DTMF-Relay; charset=x", "signal= #\r\nDuration=100\r\n", '#', ""},
		{"application/dtmf-relay", "Duration=100\r\nSignal=11\r\n", '#', ""},
		{"application/dtmf-relay", "Signal=10", '*', ""},
		{"application/dtmf-relay", "Signal=b\n", 'B', ""},
		{"application/dtmf", "7", '7', ""},
		{"application/dtmf", " *\r\n", '*', ""},
		{"application/dtmf-relay", "Duration=100\r\n", 0, "no Signal"},
		{"application/dtmf-relay", "Signal=55\r\n", 0, "not a single key"},
		{"application/dtmf", "x", 0, "not a DTMF key"},
	} {
		key, err := parseINFO(tc.ct, []byte(tc.body))
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, "%s %q", tc.ct, tc.body)
			continue
		}
		require.NoError(t, err, "%s %q", tc.ct, tc.body)
		require.Equal(t, string(tc.key), string(key), "%s %q", tc.ct, tc.body)
	}
	_, err := parseINFO("text/plain", []byte("5"))
	require.ErrorIs(t, err, errNotDTMF)
}

func FuzzParseINFO(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay", []byte("Signal=\r\n"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		key, err := parseINFO(ct, body)
		if err != nil {
			require.Zero(t, key)
			return
		}
		require.Contains(t, "0123456789*#ABCD", string(key))
	})
}
