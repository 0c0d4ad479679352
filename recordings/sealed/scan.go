package sealed

import (
	"fmt"
	"io"
)

// Frame locates one whole frame of a sealed file.
type Frame struct {
	// Offset is where the frame, that is its prefix, starts in the file; the
	// ciphertext is the CipherLen bytes at Offset+PrefixSize.
	Offset int64
	// CipherLen is the length of the frame's age message.
	CipherLen int64
	// PlainOffset is where the frame's plaintext starts in the concatenated
	// plaintext of the file.
	PlainOffset int64
	// PlainLen is the length of the frame's plaintext.
	PlainLen int64
}

// End returns the offset just past the frame, where the next frame starts.
func (f Frame) End() int64 { return f.Offset + PrefixSize + f.CipherLen }

// Index is the list of whole frames of a sealed file, as found by [Scan].
type Index struct {
	// Frames are the whole frames, in file order, contiguous from offset
	// len(Magic).
	Frames []Frame
	// ValidBytes is the length of the magic and the whole frames: the size
	// to truncate a crashed file to.
	ValidBytes int64
	// PlainBytes is the total plaintext of Frames.
	PlainBytes int64
	// Torn reports bytes after the last whole frame (ValidBytes < size): a
	// frame cut short by a crash, or garbage.
	Torn bool
}

// Scan reads the magic and the frame prefixes of the size bytes of r and
// returns the whole frames it finds. It needs no key and reads no ciphertext.
//
// A file shorter than the magic or with another magic is an error. Anything
// after the last whole frame that is not a whole frame (a torn prefix, a
// prefix whose CRC or lengths are wrong, a ciphertext running past size) ends
// the scan without error, with Torn set; nothing after it is looked at.
// An error from r is returned as is, wrapped.
func Scan(r io.ReaderAt, size int64) (Index, error) {
	var idx Index
	if size < int64(len(Magic)) {
		return idx, fmt.Errorf("sealed: file is %d bytes, shorter than the %d-byte magic", size, len(Magic))
	}
	var buf [PrefixSize]byte
	magic := buf[:len(Magic)]
	if err := readFull(r, magic, 0); err != nil {
		return idx, fmt.Errorf("sealed: read magic: %w", err)
	}
	if string(magic) != Magic {
		return idx, fmt.Errorf("sealed: not a sealed file: magic is %q, want %q", magic, Magic)
	}
	off := int64(len(Magic))
	for size-off >= PrefixSize {
		if err := readFull(r, buf[:], off); err != nil {
			return Index{}, fmt.Errorf("sealed: read frame prefix at byte %d: %w", off, err)
		}
		plain, cipher, ok := parsePrefix(buf[:])
		if !ok || cipher > size-off-PrefixSize {
			break
		}
		idx.Frames = append(idx.Frames, Frame{
			Offset:      off,
			CipherLen:   cipher,
			PlainOffset: idx.PlainBytes,
			PlainLen:    plain,
		})
		idx.PlainBytes += plain
		off += PrefixSize + cipher
	}
	idx.ValidBytes = off
	idx.Torn = off < size
	return idx, nil
}

// readFull reads len(p) bytes at off, accepting io.EOF along with a full read
// as io.ReaderAt allows.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
