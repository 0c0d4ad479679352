package sealed

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
)

// Writer appends sealed frames to an underlying writer, usually a recording
// file. It is not safe for concurrent use.
type Writer struct {
	w          io.Writer
	recipients []age.Recipient
	buf        bytes.Buffer // prefix + ciphertext of the frame being sealed
	written    int64
	plain      int64
	err        error // sticky: set once a write to w failed
}

// NewWriter checks the recipients, writes the magic to w and returns a Writer
// whose frames are encrypted to every recipient (any one of the matching
// identities can decrypt them). At least one recipient is required.
func NewWriter(w io.Writer, recipients ...age.Recipient) (*Writer, error) {
	if len(recipients) == 0 {
		return nil, errors.New("sealed: no recipient")
	}
	sw := &Writer{w: w, recipients: append([]age.Recipient(nil), recipients...)}
	// Seal a byte for nothing, so that recipients age refuses (mixing
	// post-quantum and classic ones, for example) or a header too large for
	// the format fail here rather than at the first flush of a recording.
	if _, err := sw.seal([]byte{0}); err != nil {
		return nil, err
	}
	sw.buf.Reset()
	n, err := w.Write([]byte(Magic))
	sw.written = int64(n)
	if err == nil && n < len(Magic) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return nil, fmt.Errorf("sealed: write magic: %w", err)
	}
	return sw, nil
}

// Seal encrypts plain as one frame and appends the whole frame to the
// underlying writer with a single Write call. An empty plain writes nothing.
// plain may be reused by the caller as soon as Seal returns.
//
// Once a Write has failed (or written short), the file may end in a torn
// frame, after which no frame could be found again; every later Seal returns
// the same error without writing.
func (w *Writer) Seal(plain []byte) error {
	if w.err != nil {
		return w.err
	}
	if len(plain) == 0 {
		return nil
	}
	frame, err := w.seal(plain)
	if err != nil {
		return err
	}
	n, err := w.w.Write(frame)
	w.written += int64(n)
	if err == nil && n < len(frame) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("sealed: write frame at byte %d: %w", w.written-int64(n), err)
		return w.err
	}
	w.plain += int64(len(plain))
	return nil
}

// seal builds the frame for plain in w.buf and returns its bytes, which stay
// valid until the next call.
func (w *Writer) seal(plain []byte) ([]byte, error) {
	if len(plain) > MaxPlainLen {
		return nil, fmt.Errorf("sealed: %d bytes of plaintext exceed the frame limit of %d", len(plain), MaxPlainLen)
	}
	w.buf.Reset()
	var prefix [PrefixSize]byte
	w.buf.Write(prefix[:])
	enc, err := age.Encrypt(&w.buf, w.recipients...)
	if err != nil {
		return nil, fmt.Errorf("sealed: encrypt: %w", err)
	}
	if _, err := enc.Write(plain); err != nil {
		return nil, fmt.Errorf("sealed: encrypt: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("sealed: encrypt: %w", err)
	}
	frame := w.buf.Bytes()
	cipher := int64(len(frame) - PrefixSize)
	if !validLengths(int64(len(plain)), cipher) {
		header := cipher - int64(len(plain)) - payloadOverhead(int64(len(plain)))
		return nil, fmt.Errorf("sealed: age header of %d bytes (for %d recipients) exceeds the limit of %d", header, len(w.recipients), MaxHeaderLen)
	}
	putPrefix(frame[:PrefixSize], uint32(len(plain)), uint32(cipher))
	return frame, nil
}

// Written returns the number of bytes written to the underlying writer,
// magic included; after a failed Write it includes what that Write wrote.
func (w *Writer) Written() int64 { return w.written }

// Plain returns the number of plaintext bytes sealed in frames that were
// written whole.
func (w *Writer) Plain() int64 { return w.plain }
