package store

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 0, 0, 123456000, time.UTC)
	pos, ok, err := decodeCursor(encodeCursor(at, "0193a1b2-0000-7000-8000-000000000001"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, at.UnixMicro(), pos.ArrivedMicros)
	require.Equal(t, "0193a1b2-0000-7000-8000-000000000001", pos.ID)

	_, ok, err = decodeCursor("")
	require.NoError(t, err)
	require.False(t, ok, "empty cursor is the first page")
}

// FuzzDecodeCursor: any string either decodes to a position that encodes
// back to the same position, or fails with ErrBadCursor; never a panic.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(time.Unix(1764000000, 5000), "abc"))
	f.Add("")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, s string) {
		pos, ok, err := decodeCursor(s)
		if err != nil {
			require.ErrorIs(t, err, ErrBadCursor)
			return
		}
		if !ok {
			require.Empty(t, s)
			return
		}
		again, ok, err := decodeCursor(encodeCursor(time.UnixMicro(pos.ArrivedMicros), pos.ID))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, pos, again)
	})
}

// FuzzReadJournal: any file content reads without panic, every byte is
// accounted for, and each line is either a record or reported corrupt.
func FuzzReadJournal(f *testing.F) {
	f.Add([]byte(`{"event":{"CallID":"c","Seq":1,"At":"2026-11-24T09:00:00Z","Kind":"k","Detail":""}}` + "\n"))
	f.Add([]byte(`{"call":{"ID":"c","ArrivedAt":"2026-11-24T09:00:00Z"}}` + "\n{}\n{\"ev"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"recording":{"ID":"r","CallID":"c","Segments":[{"agent":"anna","start_ms":0,"end_ms":5}],"StartedAt":"2026-11-24T09:00:00Z"}}` +
		"\n" + `{"audit":{"ID":"a","At":"2026-11-24T09:00:00Z","Action":"recording.play"}}` + "\n" + `{"recording":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		path := filepath.Join(t.TempDir(), "journal-1-1.jsonl")
		require.NoError(t, os.WriteFile(path, body, 0o600))
		var off int64
		for range len(body) + 2 {
			b, err := readBatch(path, off, 3)
			require.NoError(t, err)
			require.Equal(t, b.records, len(b.calls)+len(b.events)+len(b.recordings)+len(b.audit)+len(b.corrupt))
			require.GreaterOrEqual(t, b.end, off)
			off = b.end
			if b.eof {
				require.Equal(t, int64(len(body)), off, "replay consumes the whole file")
				return
			}
		}
		t.Fatal("readBatch made no progress")
	})
}

func TestCursorRejectsOutOfRangeTimes(t *testing.T) {
	for _, raw := range []string{"-1:x", "253402300800000000:x", "9223372036854775807:x"} {
		_, _, err := decodeCursor(base64.RawURLEncoding.EncodeToString([]byte(raw)))
		require.ErrorIs(t, err, ErrBadCursor, raw)
	}
}
