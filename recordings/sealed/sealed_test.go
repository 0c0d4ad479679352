package sealed_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/recordings/sealed"
)

var (
	_ io.ReadSeeker = (*sealed.Reader)(nil)
	_ io.ReaderAt   = (*sealed.Reader)(nil)
)

func newIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	return id
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// sealFrames writes one frame per element of sizes and returns the file and
// the concatenated plaintext.
func sealFrames(t testing.TB, rng *rand.Rand, r age.Recipient, sizes []int) (file, plain []byte) {
	t.Helper()
	var out bytes.Buffer
	w, err := sealed.NewWriter(&out, r)
	require.NoError(t, err)
	for _, n := range sizes {
		p := randBytes(rng, n)
		require.NoError(t, w.Seal(p))
		plain = append(plain, p...)
	}
	require.Equal(t, int64(out.Len()), w.Written())
	require.Equal(t, int64(len(plain)), w.Plain())
	return out.Bytes(), plain
}

func scan(t testing.TB, file []byte) sealed.Index {
	t.Helper()
	idx, err := sealed.Scan(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	return idx
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	id := newIdentity(t)
	var sizes []int
	for range 150 {
		sizes = append(sizes, 1+rng.IntN(20000))
	}
	// Around age's 64 KiB chunk boundaries, where the ciphertext length
	// formula that Scan checks changes.
	sizes = append(sizes, 1, 2, 65535, 65536, 65537, 2*65536, 2*65536+1, 12800)
	rng.Shuffle(len(sizes), func(i, j int) { sizes[i], sizes[j] = sizes[j], sizes[i] })
	file, plain := sealFrames(t, rng, id.Recipient(), sizes)

	idx := scan(t, file)
	require.False(t, idx.Torn)
	require.Equal(t, int64(len(file)), idx.ValidBytes)
	require.Equal(t, int64(len(plain)), idx.PlainBytes)
	require.Len(t, idx.Frames, len(sizes))
	for i, f := range idx.Frames {
		require.Equal(t, int64(sizes[i]), f.PlainLen, "frame %d", i)
	}

	r := sealed.Open(bytes.NewReader(file), idx, id)
	require.Equal(t, int64(len(plain)), r.Size())
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, plain, got)

	// Small reads that cross frame boundaries.
	r = sealed.Open(bytes.NewReader(file), idx, id)
	got = got[:0]
	buf := make([]byte, 777)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	require.Equal(t, plain, got)

	// Seek + Read and ReadAt at random offsets.
	for range 300 {
		off := rng.Int64N(int64(len(plain)) + 1)
		n := rng.IntN(70000)
		want := plain[off:min(off+int64(n), int64(len(plain)))]

		pos, err := r.Seek(off, io.SeekStart)
		require.NoError(t, err)
		require.Equal(t, off, pos)
		got := make([]byte, n)
		m, err := io.ReadFull(r, got)
		if len(want) < n {
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "off %d n %d", off, n)
			if len(want) == 0 {
				require.ErrorIs(t, err, io.EOF)
			}
		} else {
			require.NoError(t, err)
		}
		require.Equal(t, want, got[:m], "off %d n %d", off, n)

		m, err = r.ReadAt(got, off)
		require.Equal(t, want, got[:m], "ReadAt off %d n %d", off, n)
		if m < n {
			require.ErrorIs(t, err, io.EOF)
		} else {
			require.NoError(t, err)
		}
	}

	// Seek relative to the end and to the current position.
	pos, err := r.Seek(-10, io.SeekEnd)
	require.NoError(t, err)
	require.Equal(t, int64(len(plain)-10), pos)
	pos, err = r.Seek(3, io.SeekCurrent)
	require.NoError(t, err)
	require.Equal(t, int64(len(plain)-7), pos)
	got, err = io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, plain[len(plain)-7:], got)
	_, err = r.Seek(-1, io.SeekStart)
	require.ErrorContains(t, err, "sealed: seek to negative position")
	_, err = r.Seek(0, 42)
	require.ErrorContains(t, err, "sealed: seek: invalid whence")
	pos, err = r.Seek(int64(len(plain))+100, io.SeekStart)
	require.NoError(t, err)
	n, err := r.Read(buf)
	require.Equal(t, 0, n)
	require.ErrorIs(t, err, io.EOF)
}

func TestEmptyFileAndEmptySeal(t *testing.T) {
	id := newIdentity(t)
	var out bytes.Buffer
	w, err := sealed.NewWriter(&out, id.Recipient())
	require.NoError(t, err)
	require.Equal(t, sealed.Magic, out.String())
	require.NoError(t, w.Seal(nil))
	require.NoError(t, w.Seal([]byte{}))
	require.Equal(t, int64(len(sealed.Magic)), w.Written())
	require.Equal(t, int64(0), w.Plain())

	idx := scan(t, out.Bytes())
	require.Empty(t, idx.Frames)
	require.False(t, idx.Torn)
	require.Equal(t, int64(len(sealed.Magic)), idx.ValidBytes)
	r := sealed.Open(bytes.NewReader(out.Bytes()), idx, id)
	require.Equal(t, int64(0), r.Size())
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Empty(t, got)
}

// countingReaderAt records which frames' ciphertext was read.
type countingReaderAt struct {
	r      io.ReaderAt
	frames []sealed.Frame
	mu     sync.Mutex
	read   map[int]bool
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	for i, f := range c.frames {
		if off < f.End() && off+int64(len(p)) > f.Offset+sealed.PrefixSize {
			c.read[i] = true
		}
	}
	c.mu.Unlock()
	return c.r.ReadAt(p, off)
}

func TestServeContentRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	id := newIdentity(t)
	sizes := make([]int, 40)
	for i := range sizes {
		sizes[i] = 16000
	}
	file, plain := sealFrames(t, rng, id.Recipient(), sizes)
	idx := scan(t, file)
	counter := &countingReaderAt{r: bytes.NewReader(file), frames: idx.Frames, read: map[int]bool{}}
	r := sealed.Open(counter, idx, id)

	// The last 20,000 bytes: the end of frame 38 and all of frame 39.
	start := len(plain) - 20000
	end := len(plain) - 1
	req := httptest.NewRequest(http.MethodGet, "/rec.wav", nil)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end))
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "audio/wav") // else ServeContent sniffs the first 512 bytes
	http.ServeContent(rec, req, "rec.wav", time.Time{}, r)

	require.Equal(t, http.StatusPartialContent, rec.Code)
	require.Equal(t, fmt.Sprintf("bytes %d-%d/%d", start, end, len(plain)), rec.Header().Get("Content-Range"))
	require.Equal(t, plain[start:end+1], rec.Body.Bytes())
	require.Equal(t, map[int]bool{38: true, 39: true}, counter.read, "frames decrypted")

	// A whole-file request still works and gives 200.
	r = sealed.Open(bytes.NewReader(file), idx, id)
	req = httptest.NewRequest(http.MethodGet, "/rec.wav", nil)
	rec = httptest.NewRecorder()
	http.ServeContent(rec, req, "rec.wav", time.Time{}, r)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, plain, rec.Body.Bytes())
}

func TestTruncatedAtEveryOffsetOfLastFrame(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	id := newIdentity(t)
	// Two earlier frames, and a last one of one 0.5 s flush of 8 kHz stereo
	// 16-bit audio.
	file, plain := sealFrames(t, rng, id.Recipient(), []int{3000, 5000, 16000})
	full := scan(t, file)
	require.Len(t, full.Frames, 3)
	last := full.Frames[2]
	require.Equal(t, int64(len(file)), last.End())

	for cut := last.Offset; cut < last.End(); cut++ {
		idx := scan(t, file[:cut])
		require.Len(t, idx.Frames, 2, "cut %d", cut)
		require.Equal(t, last.Offset, idx.ValidBytes, "cut %d", cut)
		require.Equal(t, cut > last.Offset, idx.Torn, "cut %d", cut)
		require.Equal(t, int64(8000), idx.PlainBytes, "cut %d", cut)
		require.Equal(t, full.Frames[:2], idx.Frames, "cut %d", cut)
		// The two whole frames decrypt from the torn file. (Decrypting them at
		// all 16,000-odd cuts takes a minute under -race, for the same bytes:
		// do it in the prefix, the age header, the end, and every 251 bytes.)
		if in := cut - last.Offset; in < 300 || last.End()-cut < 64 || in%251 == 0 {
			got, err := io.ReadAll(sealed.Open(bytes.NewReader(file[:cut]), idx, id))
			require.NoError(t, err, "cut %d", cut)
			require.Equal(t, plain[:8000], got, "cut %d", cut)
		}
	}

	// What recovery does: truncate to ValidBytes, then read with the key.
	cut := last.Offset + 1 + rng.Int64N(last.End()-last.Offset-1)
	idx := scan(t, file[:cut])
	recovered := file[:idx.ValidBytes]
	got, err := io.ReadAll(sealed.Open(bytes.NewReader(recovered), idx, id))
	require.NoError(t, err)
	require.Equal(t, plain[:8000], got)
	// The torn file itself reads the same without truncation.
	got, err = io.ReadAll(sealed.Open(bytes.NewReader(file[:cut]), idx, id))
	require.NoError(t, err)
	require.Equal(t, plain[:8000], got)
}

func TestTruncatedInsideEarlierFrame(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	id := newIdentity(t)
	file, _ := sealFrames(t, rng, id.Recipient(), []int{100, 200, 300})
	full := scan(t, file)
	cut := full.Frames[1].Offset + 5 // inside frame 1's prefix
	idx := scan(t, file[:cut])
	require.True(t, idx.Torn)
	require.Len(t, idx.Frames, 1)
	require.Equal(t, full.Frames[1].Offset, idx.ValidBytes)
}

func TestGarbageAfterFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	id := newIdentity(t)
	file, plain := sealFrames(t, rng, id.Recipient(), []int{1000, 2000})
	valid := int64(len(file))

	for name, tail := range map[string][]byte{
		"random":     randBytes(rng, 5000),
		"zeros":      make([]byte, 4096),
		"ones":       bytes.Repeat([]byte{0xff}, 100),
		"short":      {1, 2, 3},
		"magic":      []byte(sealed.Magic + sealed.Magic),
		"frame copy": file[len(sealed.Magic):][:sealed.PrefixSize+10], // a valid prefix, ciphertext cut short
	} {
		t.Run(name, func(t *testing.T) {
			f := append(append([]byte(nil), file...), tail...)
			idx := scan(t, f)
			require.True(t, idx.Torn)
			require.Equal(t, valid, idx.ValidBytes)
			require.Len(t, idx.Frames, 2)
			got, err := io.ReadAll(sealed.Open(bytes.NewReader(f), idx, id))
			require.NoError(t, err)
			require.Equal(t, plain, got)
		})
	}

	// A prefix with a good CRC but lengths age could not have written.
	t.Run("bad lengths", func(t *testing.T) {
		var p [sealed.PrefixSize]byte
		sealed.PutPrefixForTest(p[:], 1000, 1000) // ciphertext no longer than the plaintext
		f := append(append([]byte(nil), file...), p[:]...)
		f = append(f, make([]byte, 2000)...)
		idx := scan(t, f)
		require.True(t, idx.Torn)
		require.Equal(t, valid, idx.ValidBytes)
	})
}

func TestWrongMagic(t *testing.T) {
	for name, f := range map[string][]byte{
		"empty":        {},
		"short":        []byte("HLSEAL"),
		"other magic":  []byte("HLSEAL2\nxxxxxxxxxxxxxxxx"),
		"wav":          []byte("RIFF\x24\x00\x00\x00WAVEfmt "),
		"almost magic": []byte("HLSEAL1\r"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := sealed.Scan(bytes.NewReader(f), int64(len(f)))
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), "sealed: "), err.Error())
		})
	}
}

type failingReaderAt struct{}

func (failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

func TestScanReadError(t *testing.T) {
	_, err := sealed.Scan(failingReaderAt{}, 100)
	require.ErrorContains(t, err, "sealed: read magic: disk on fire")
}

func TestWrongIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	id := newIdentity(t)
	file, _ := sealFrames(t, rng, id.Recipient(), []int{500, 500})
	idx := scan(t, file)

	r := sealed.Open(bytes.NewReader(file), idx, newIdentity(t))
	_, err := io.ReadAll(r)
	require.ErrorContains(t, err, "sealed: frame 0 at byte 8: decrypt: ")
	var noMatch *age.NoIdentityMatchError
	require.ErrorAs(t, err, &noMatch)

	// No identity at all.
	_, err = io.ReadAll(sealed.Open(bytes.NewReader(file), idx))
	require.ErrorContains(t, err, "sealed: frame 0 at byte 8: decrypt: no identities specified")
}

func TestCorruptedFrame(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	id := newIdentity(t)
	file, plain := sealFrames(t, rng, id.Recipient(), []int{500, 500, 500})
	idx := scan(t, file)

	for name, off := range map[string]int64{
		"header":  idx.Frames[1].Offset + sealed.PrefixSize + 30,
		"payload": idx.Frames[1].End() - 20,
	} {
		t.Run(name, func(t *testing.T) {
			f := append([]byte(nil), file...)
			f[off] ^= 0x40
			// Scan does not read ciphertext, so it does not see it...
			require.Equal(t, idx, scan(t, f))
			// ...but decryption does, and says which frame.
			r := sealed.Open(bytes.NewReader(f), idx, id)
			got := make([]byte, 500)
			_, err := io.ReadFull(r, got)
			require.NoError(t, err)
			require.Equal(t, plain[:500], got)
			_, err = io.ReadFull(r, got)
			require.ErrorContains(t, err, fmt.Sprintf("sealed: frame 1 at byte %d: decrypt: ", idx.Frames[1].Offset))
			// Frame 2 is still readable.
			n, err := r.ReadAt(got, 1000)
			require.NoError(t, err)
			require.Equal(t, plain[1000:], got[:n])
		})
	}

	// A prefix rewritten (with a matching CRC) to claim another plaintext
	// length is caught once the frame is decrypted.
	for _, claim := range []int64{499, 501} {
		t.Run(fmt.Sprintf("plain length %d", claim), func(t *testing.T) {
			f := append([]byte(nil), file...)
			fr := idx.Frames[0]
			sealed.PutPrefixForTest(f[fr.Offset:], uint32(claim), uint32(fr.CipherLen))
			forged := scan(t, f)
			require.Len(t, forged.Frames, 3)
			require.Equal(t, claim, forged.Frames[0].PlainLen)
			_, err := io.ReadAll(sealed.Open(bytes.NewReader(f), forged, id))
			require.ErrorContains(t, err, fmt.Sprintf("sealed: frame 0 at byte 8: plaintext is 500 bytes, the prefix says %d", claim))
		})
	}
}

func TestReaderOverSubsetOfFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	id := newIdentity(t)
	file, plain := sealFrames(t, rng, id.Recipient(), []int{100, 200, 300})
	idx := scan(t, file)
	sub := sealed.Index{Frames: idx.Frames[1:]}
	got, err := io.ReadAll(sealed.Open(bytes.NewReader(file), sub, id))
	require.NoError(t, err)
	require.Equal(t, plain[100:], got)
}

func TestConcurrentReadAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	id := newIdentity(t)
	file, plain := sealFrames(t, rng, id.Recipient(), []int{3000, 4000, 5000, 6000})
	r := sealed.Open(bytes.NewReader(file), scan(t, file), id)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			buf := make([]byte, 2500)
			for range 50 {
				off := rng.Int64N(int64(len(plain)))
				n, err := r.ReadAt(buf, off)
				if n < len(buf) && !errors.Is(err, io.EOF) {
					t.Errorf("ReadAt(%d): %d, %v", off, n, err)
					return
				}
				if !bytes.Equal(plain[off:off+int64(n)], buf[:n]) {
					t.Errorf("ReadAt(%d): wrong bytes", off)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestMultipleRecipients(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	var out bytes.Buffer
	w, err := sealed.NewWriter(&out, a.Recipient(), b.Recipient())
	require.NoError(t, err)
	require.NoError(t, w.Seal([]byte("hello")))
	idx := scan(t, out.Bytes())
	for _, id := range []age.Identity{a, b} {
		got, err := io.ReadAll(sealed.Open(bytes.NewReader(out.Bytes()), idx, id))
		require.NoError(t, err)
		require.Equal(t, "hello", string(got))
	}
}

// countingWriter counts Write calls and can fail.
type countingWriter struct {
	bytes.Buffer
	writes int
	failAt int // fail the Write with this number (1-based); 0 never
	short  bool
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	if c.writes == c.failAt {
		if c.short {
			c.Buffer.Write(p[:len(p)/2])
			return len(p) / 2, nil
		}
		return 0, errors.New("disk full")
	}
	return c.Buffer.Write(p)
}

func TestOneWritePerSeal(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	id := newIdentity(t)
	cw := &countingWriter{}
	w, err := sealed.NewWriter(cw, id.Recipient())
	require.NoError(t, err)
	require.Equal(t, 1, cw.writes) // the magic
	for i := range 20 {
		require.NoError(t, w.Seal(randBytes(rng, 1+rng.IntN(200000))))
		require.Equal(t, i+2, cw.writes)
	}
}

func TestWriteErrorIsSticky(t *testing.T) {
	id := newIdentity(t)
	for _, short := range []bool{false, true} {
		cw := &countingWriter{failAt: 3, short: short}
		w, err := sealed.NewWriter(cw, id.Recipient())
		require.NoError(t, err)
		require.NoError(t, w.Seal([]byte("one")))
		plainBefore := w.Plain()
		err = w.Seal([]byte("two"))
		require.ErrorContains(t, err, "sealed: write frame at byte ")
		if short {
			require.ErrorIs(t, err, io.ErrShortWrite)
		}
		require.Equal(t, int64(cw.Len()), w.Written())
		require.Equal(t, plainBefore, w.Plain())
		require.Equal(t, err, w.Seal([]byte("three")))
		require.Equal(t, 3, cw.writes)

		idx := scan(t, cw.Bytes())
		require.Len(t, idx.Frames, 1)
		require.Equal(t, short, idx.Torn)
	}
}

func TestNewWriterErrors(t *testing.T) {
	_, err := sealed.NewWriter(io.Discard)
	require.ErrorContains(t, err, "sealed: no recipient")

	cw := &countingWriter{failAt: 1}
	_, err = sealed.NewWriter(cw, newIdentity(t).Recipient())
	require.ErrorContains(t, err, "sealed: write magic: disk full")

	// age refuses to mix classic and post-quantum recipients; NewWriter says
	// so before writing anything.
	pq, err := age.GenerateHybridIdentity()
	require.NoError(t, err)
	var out bytes.Buffer
	_, err = sealed.NewWriter(&out, newIdentity(t).Recipient(), pq.Recipient())
	require.ErrorContains(t, err, "sealed: encrypt: ")
	require.Zero(t, out.Len())
}

func TestSealTooLarge(t *testing.T) {
	w, err := sealed.NewWriter(io.Discard, newIdentity(t).Recipient())
	require.NoError(t, err)
	err = w.Seal(make([]byte, sealed.MaxPlainLen+1))
	require.ErrorContains(t, err, "exceed the frame limit")
	// Not sticky: nothing was written.
	require.NoError(t, w.Seal([]byte("x")))
}

func TestMaxPlainLenFrame(t *testing.T) {
	id := newIdentity(t)
	var out bytes.Buffer
	w, err := sealed.NewWriter(&out, id.Recipient())
	require.NoError(t, err)
	plain := make([]byte, sealed.MaxPlainLen)
	plain[len(plain)-1] = 7
	require.NoError(t, w.Seal(plain))
	idx := scan(t, out.Bytes())
	require.False(t, idx.Torn)
	require.Equal(t, int64(sealed.MaxPlainLen), idx.PlainBytes)
	r := sealed.Open(bytes.NewReader(out.Bytes()), idx, id)
	var last [1]byte
	_, err = r.ReadAt(last[:], sealed.MaxPlainLen-1)
	require.NoError(t, err)
	require.Equal(t, byte(7), last[0])
}

func TestParseRecipient(t *testing.T) {
	id := newIdentity(t)
	r, err := sealed.ParseRecipient("  " + id.Recipient().String() + "\n")
	require.NoError(t, err)
	var out bytes.Buffer
	w, err := sealed.NewWriter(&out, r)
	require.NoError(t, err)
	require.NoError(t, w.Seal([]byte("x")))
	got, err := io.ReadAll(sealed.Open(bytes.NewReader(out.Bytes()), scan(t, out.Bytes()), id))
	require.NoError(t, err)
	require.Equal(t, "x", string(got))

	pq, err := age.GenerateHybridIdentity()
	require.NoError(t, err)
	for in, want := range map[string]string{
		"":                              "sealed: empty age recipient",
		id.String():                     "sealed: the age recipient is a secret key",
		pq.Recipient().String():         "sealed: post-quantum age recipients",
		"ssh-ed25519 AAAA":              `sealed: age recipient "ssh-ed25519 AAAA" is not an X25519 recipient`,
		"age1notbech32":                 "sealed: malformed recipient",
		id.Recipient().String() + "xyz": "sealed: malformed recipient",
	} {
		_, err := sealed.ParseRecipient(in)
		require.ErrorContains(t, err, want, "input %q", in)
		require.NotContains(t, err.Error(), id.String(), "secret key echoed")
	}
}

func TestLoadIdentities(t *testing.T) {
	dir := t.TempDir()
	a, b := newIdentity(t), newIdentity(t)
	path := filepath.Join(dir, "key.txt")
	// As age-keygen writes it, with a second key appended.
	content := fmt.Sprintf("# created: 2026-01-02T03:04:05Z\n# public key: %s\n%s\n\n# old key\n%s\n",
		a.Recipient(), a, b)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	ids, err := sealed.LoadIdentities(path)
	require.NoError(t, err)
	require.Len(t, ids, 2)

	var out bytes.Buffer
	w, err := sealed.NewWriter(&out, b.Recipient())
	require.NoError(t, err)
	require.NoError(t, w.Seal([]byte("old")))
	got, err := io.ReadAll(sealed.Open(bytes.NewReader(out.Bytes()), scan(t, out.Bytes()), ids...))
	require.NoError(t, err)
	require.Equal(t, "old", string(got))

	_, err = sealed.LoadIdentities(filepath.Join(dir, "missing.txt"))
	require.ErrorContains(t, err, "sealed: identity file: open "+filepath.Join(dir, "missing.txt"))
	require.ErrorIs(t, err, os.ErrNotExist)

	for name, content := range map[string]string{
		"empty":     "",
		"comments":  "# nothing here\n",
		"recipient": a.Recipient().String() + "\n",
		"bad key":   "AGE-SECRET-KEY-1NOTAKEY\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		_, err := sealed.LoadIdentities(p)
		require.ErrorContains(t, err, "sealed: identity file "+p+": ", name)
	}
}

// BenchmarkSeal seals 12,800 bytes (0.4 s of the 32 KB/s 8 kHz 16-bit stereo
// audio), about what the recorder flushes for each call every half second.
func BenchmarkSeal(b *testing.B) {
	id := newIdentity(b)
	w, err := sealed.NewWriter(io.Discard, id.Recipient())
	require.NoError(b, err)
	plain := randBytes(rand.New(rand.NewPCG(1, 1)), 12800)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Seal(plain); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAgeEncrypt is the floor for BenchmarkSeal: one age message of the
// same plaintext into a reused buffer, with nothing of this package.
func BenchmarkAgeEncrypt(b *testing.B) {
	id := newIdentity(b)
	r := id.Recipient()
	plain := randBytes(rand.New(rand.NewPCG(1, 1)), 12800)
	var buf bytes.Buffer
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		enc, err := age.Encrypt(&buf, r)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := enc.Write(plain); err != nil {
			b.Fatal(err)
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadRecording reads back a minute of audio at 32 KB/s sealed in
// 0.5 s frames.
func BenchmarkReadRecording(b *testing.B) {
	id := newIdentity(b)
	rng := rand.New(rand.NewPCG(2, 2))
	sizes := make([]int, 120)
	for i := range sizes {
		sizes[i] = 16000
	}
	file, _ := sealFrames(b, rng, id.Recipient(), sizes)
	idx := scan(b, file)
	b.SetBytes(idx.PlainBytes)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := io.Copy(io.Discard, sealed.Open(bytes.NewReader(file), idx, id)); err != nil {
			b.Fatal(err)
		}
	}
}
