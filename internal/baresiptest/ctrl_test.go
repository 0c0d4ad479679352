package baresiptest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readAll(t *testing.T, in string) ([]string, error) {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(in))
	var got []string
	for {
		b, err := readNetstring(r, 100)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return got, err
		}
		got = append(got, string(b))
	}
}

func TestReadNetstring(t *testing.T) {
	got, err := readAll(t, `5:hello,0:,17:{"response":true},`)
	require.NoError(t, err)
	require.Equal(t, []string{"hello", "", `{"response":true}`}, got)
}

func TestReadNetstringRefusesBadInput(t *testing.T) {
	for name, in := range map[string]string{
		"no length":       ":abc,",
		"letter":          "5x:hello,",
		"no comma":        "5:hello;",
		"short":           "5:hel",
		"cut in length":   "12",
		"over limit":      "101:" + strings.Repeat("a", 101) + ",",
		"huge length":     "99999999999999999999999:",
		"negative length": "-1:,",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readAll(t, in)
			require.Error(t, err)
			require.NotErrorIs(t, err, io.EOF)
		})
	}
}

func TestAppendNetstringRoundTrips(t *testing.T) {
	msg := []byte(`{"command":"dial","params":"sip:a@127.0.0.1","token":"1"}`)
	b := appendNetstring(nil, msg)
	require.Equal(t, "57:"+string(msg)+",", string(b))
	got, err := readNetstring(bufio.NewReader(bytes.NewReader(b)), maxCtrlMessage)
	require.NoError(t, err)
	require.Equal(t, msg, got)
}

func TestCleanLogDropsColourAndStatusLines(t *testing.T) {
	in := "baresip is ready.\n\x1b[31maudio: start_source failed\n\x1b[;m" +
		"[0:00:01] audio=0/0 (bit/s)    \r[0:00:02] audio=64/64 (bit/s)    \r" +
		"audio: send DTMF digit: '1'\n"
	require.Equal(t, "baresip is ready.\naudio: start_source failed\naudio: send DTMF digit: '1'", cleanLog(in))
}

func FuzzReadNetstring(f *testing.F) {
	f.Add([]byte(`5:hello,`))
	f.Add([]byte(`0:,3:abc,`))
	f.Add([]byte(`125:{"event":true,"type":"CALL_CLOSED","class":"call","accountaor":"sip:a@127.0.0.1","id":"1","param":"Connection reset by user"},`))
	f.Add([]byte(`12`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for range len(in) + 1 {
			msg, err := readNetstring(r, 1<<10)
			if err != nil {
				return
			}
			// Whatever was read re-encodes to a netstring that reads back the same.
			again, err := readNetstring(bufio.NewReader(bytes.NewReader(appendNetstring(nil, msg))), 1<<10)
			require.NoError(t, err)
			require.Equal(t, msg, again)
		}
	})
}
