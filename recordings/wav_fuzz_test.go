package recordings

import (
	"bytes"
	"testing"
)

// FuzzParseHeader: the recovery reader never panics on whatever a crash or
// a disk left in a .part file, and what it reports lies within the file.
func FuzzParseHeader(f *testing.F) {
	good := append(header("0190f0a8-1111-7000-8000-000000000001", "call-1", 0), make([]byte, 3200)...)
	f.Add(good)
	f.Add(good[:30])
	f.Add(append(header("r", "c", 0), 1, 2, 3))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if h.DataOffset < 12 || h.DataOffset > int64(len(b)) && h.DataLen != 0 {
			t.Fatalf("data offset %d outside a %d-byte file", h.DataOffset, len(b))
		}
		if h.DataLen < 0 || h.DataOffset+h.DataLen > int64(len(b)) || h.DataLen%blockAlign != 0 {
			t.Fatalf("data length %d at %d in a %d-byte file", h.DataLen, h.DataOffset, len(b))
		}
	})
}

// The header the recorder writes is read back with its ids, and a header
// sized for its data declares that size.
func TestHeaderRoundTrip(t *testing.T) {
	b := append(header("rec-1", "call-1", 6400), make([]byte, 6400)...)
	h, err := ParseHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if h.RecordingID != "rec-1" || h.CallID != "call-1" || h.DataLen != 6400 || h.Declared != 6400 || h.DurationMS() != 200 {
		t.Fatalf("read back %+v", h)
	}
	if _, err := ParseHeader(bytes.NewReader(b[:20]), 20); err == nil {
		t.Fatal("a truncated header was accepted")
	}
}
