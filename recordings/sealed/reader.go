package sealed

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"filippo.io/age"
)

// Reader reads the concatenated plaintext of the frames of an [Index]. It
// decrypts a frame only when a read needs bytes of it, and keeps the last
// decrypted frame, so sequential reads decrypt each frame once and a seek near
// the end (an HTTP Range request) decrypts only the frames it touches.
//
// Read and Seek share a position and must not be called concurrently with
// each other; ReadAt may be called concurrently with anything.
type Reader struct {
	r      io.ReaderAt
	ids    []age.Identity
	frames []Frame
	size   int64
	pos    int64 // of Read and Seek

	mu    sync.Mutex // guards cur and plain
	cur   int        // index of the frame in plain, or -1
	plain []byte
}

// Open returns a Reader over the plaintext of idx's frames in r, decrypted
// with identities. idx normally comes from [Scan] on the same r; the frames'
// PlainOffset fields are recomputed, so any subset of its frames, in order,
// may be given. Open itself decrypts nothing: a wrong identity or a corrupted
// frame is reported by the read that needs the frame.
func Open(r io.ReaderAt, idx Index, identities ...age.Identity) *Reader {
	frames := make([]Frame, len(idx.Frames))
	var size int64
	for i, f := range idx.Frames {
		f.PlainOffset = size
		frames[i] = f
		size += f.PlainLen
	}
	return &Reader{
		r:      r,
		ids:    append([]age.Identity(nil), identities...),
		frames: frames,
		size:   size,
		cur:    -1,
	}
}

// Size returns the length of the plaintext.
func (r *Reader) Size() int64 { return r.size }

// Read reads plaintext at the current position and advances it.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.ReadAt(p, r.pos)
	r.pos += int64(n)
	if n > 0 && err == io.EOF {
		err = nil
	}
	return n, err
}

// Seek sets the position of the next Read, as [io.Seeker] describes. A
// position past the end is allowed; Read there returns io.EOF.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = r.pos + offset
	case io.SeekEnd:
		pos = r.size + offset
	default:
		return r.pos, fmt.Errorf("sealed: seek: invalid whence %d", whence)
	}
	if pos < 0 {
		return r.pos, fmt.Errorf("sealed: seek to negative position %d", pos)
	}
	r.pos = pos
	return pos, nil
}

// ReadAt reads len(p) bytes of plaintext at off, as [io.ReaderAt] describes.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("sealed: read at negative offset %d", off)
	}
	n := 0
	for n < len(p) {
		if off >= r.size {
			return n, io.EOF
		}
		i := sort.Search(len(r.frames), func(i int) bool {
			f := r.frames[i]
			return f.PlainOffset+f.PlainLen > off
		})
		c, err := r.copyFrom(i, p[n:], off-r.frames[i].PlainOffset)
		n += c
		off += int64(c)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// copyFrom copies plaintext of frame i from offset within it into p.
func (r *Reader) copyFrom(i int, p []byte, within int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != i {
		if err := r.decrypt(i); err != nil {
			return 0, err
		}
	}
	return copy(p, r.plain[within:]), nil
}

// decrypt decrypts frame i into r.plain. r.mu must be held.
func (r *Reader) decrypt(i int) error {
	f := r.frames[i]
	r.cur = -1
	if int64(cap(r.plain)) < f.PlainLen {
		r.plain = make([]byte, f.PlainLen)
	}
	r.plain = r.plain[:f.PlainLen]
	fail := func(format string, args ...any) error {
		return fmt.Errorf("sealed: frame %d at byte %d: "+format, append([]any{i, f.Offset}, args...)...)
	}
	dec, err := age.Decrypt(io.NewSectionReader(r.r, f.Offset+PrefixSize, f.CipherLen), r.ids...)
	if err != nil {
		return fail("decrypt: %w", err)
	}
	if n, err := io.ReadFull(dec, r.plain); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fail("plaintext is %d bytes, the prefix says %d", n, f.PlainLen)
		}
		return fail("decrypt: %w", err)
	}
	// Read to the end: age authenticates the last chunk as the last one only
	// there, and the plaintext must not be longer than the prefix says.
	extra, err := io.Copy(io.Discard, dec)
	if err != nil {
		return fail("decrypt: %w", err)
	}
	if extra > 0 {
		return fail("plaintext is %d bytes, the prefix says %d", f.PlainLen+extra, f.PlainLen)
	}
	r.cur = i
	return nil
}
