package sealed_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/recordings/sealed"
)

// FuzzScan checks that Scan never panics on any file and that what it returns
// is self-consistent: frames contiguous from the magic, within the file, with
// plausible lengths, and ValidBytes where they end.
//
// The checked-in corpus (testdata/fuzz/FuzzScan) has a valid two-frame file,
// the same file torn inside its second frame, an empty file, a bare magic and
// garbage after the magic; f.Add adds a fresh valid file with more frames.
func FuzzScan(f *testing.F) {
	id := newIdentity(f)
	var out bytes.Buffer
	w, err := sealed.NewWriter(&out, id.Recipient())
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []int{1, 40, 300} {
		if err := w.Seal(bytes.Repeat([]byte{byte(n)}, n)); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(out.Bytes())

	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		idx, err := sealed.Scan(bytes.NewReader(data), size)
		if err != nil {
			if size >= int64(len(sealed.Magic)) && string(data[:len(sealed.Magic)]) == sealed.Magic {
				t.Fatalf("Scan of a file with the magic: %v", err)
			}
			return
		}
		if size < int64(len(sealed.Magic)) || string(data[:len(sealed.Magic)]) != sealed.Magic {
			t.Fatalf("Scan accepted a file without the magic")
		}
		if idx.ValidBytes < int64(len(sealed.Magic)) || idx.ValidBytes > size {
			t.Fatalf("ValidBytes %d outside [%d, %d]", idx.ValidBytes, len(sealed.Magic), size)
		}
		if idx.Torn != (idx.ValidBytes < size) {
			t.Fatalf("Torn %v with ValidBytes %d of %d", idx.Torn, idx.ValidBytes, size)
		}
		off, plain := int64(len(sealed.Magic)), int64(0)
		for i, fr := range idx.Frames {
			if fr.Offset != off || fr.PlainOffset != plain {
				t.Fatalf("frame %d at %d (plain %d), want %d (plain %d)", i, fr.Offset, fr.PlainOffset, off, plain)
			}
			if fr.PlainLen < 1 || fr.PlainLen > sealed.MaxPlainLen || fr.CipherLen <= fr.PlainLen {
				t.Fatalf("frame %d: plain %d, cipher %d", i, fr.PlainLen, fr.CipherLen)
			}
			if fr.End() > size {
				t.Fatalf("frame %d ends at %d, past the file's %d", i, fr.End(), size)
			}
			off, plain = fr.End(), plain+fr.PlainLen
		}
		if off != idx.ValidBytes || plain != idx.PlainBytes {
			t.Fatalf("frames end at %d with %d plain bytes; index says %d, %d", off, plain, idx.ValidBytes, idx.PlainBytes)
		}
		// Scanning the valid part alone gives the same frames, untorn.
		again, err := sealed.Scan(bytes.NewReader(data[:idx.ValidBytes]), idx.ValidBytes)
		if err != nil || again.Torn || len(again.Frames) != len(idx.Frames) {
			t.Fatalf("rescan of ValidBytes: %+v, %v", again, err)
		}
	})
}

// TestFuzzScanCorpus keeps the checked-in seeds what FuzzScan's comment says
// they are.
func TestFuzzScanCorpus(t *testing.T) {
	for name, want := range map[string]struct {
		frames int
		torn   bool
		err    bool
	}{
		"valid_two_frames":  {frames: 2},
		"torn_second_frame": {frames: 1, torn: true},
		"empty":             {err: true},
		"magic_only":        {},
		"garbage":           {torn: true},
	} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzScan", name))
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			require.Len(t, lines, 2)
			require.Equal(t, "go test fuzz v1", lines[0])
			lit, ok := strings.CutPrefix(lines[1], "[]byte(")
			require.True(t, ok)
			lit, ok = strings.CutSuffix(lit, ")")
			require.True(t, ok)
			s, err := strconv.Unquote(lit)
			require.NoError(t, err)

			idx, err := sealed.Scan(strings.NewReader(s), int64(len(s)))
			if want.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Len(t, idx.Frames, want.frames)
			require.Equal(t, want.torn, idx.Torn)
		})
	}
}
