package recordings

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/recordings/sealed"
)

// Catalog is the part of the store the Service reads and writes directly
// (at start and from the retention sweeper, never from a call).
type Catalog interface {
	GetRecording(ctx context.Context, id string) (store.Recording, error)
	SaveRecording(ctx context.Context, r store.Recording) error
	ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]store.Recording, error)
}

// Recover finishes every .part file under Dir, left by a process that
// stopped without finishing its recordings (kill -9, power loss): the
// torn tail is cut, the header's sizes are written, the file gets its
// final name and digest, and its row is marked recovered (made from the
// file's header when the row never reached the store). Open segments and
// markers are closed at the end of the audio. It returns how many files
// it recovered; a file it cannot read is logged and left alone. Call it
// before the first Start.
func (s *Service) Recover(ctx context.Context, cat Catalog) (int, error) {
	var parts []string
	err := filepath.WalkDir(s.opt.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, partSuffix) {
			parts = append(parts, p)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("recordings: recover: %w", err)
	}
	n := 0
	for _, p := range parts {
		if err := s.recoverFile(ctx, cat, p); err != nil {
			s.log.Error("recording not recovered; the file is left as it is", "file", p, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// recoverFile finishes one .part file.
func (s *Service) recoverFile(ctx context.Context, cat Catalog, part string) error {
	f, err := os.OpenFile(part, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(filepath.Base(part), partSuffix)
	sealedFile := strings.HasSuffix(base, ".wav.age")
	id := strings.TrimSuffix(strings.TrimSuffix(base, ".age"), ".wav")
	var hdr Header
	if sealedFile {
		idx, err := sealed.Scan(f, st.Size())
		if err != nil {
			return err
		}
		if err := f.Truncate(idx.ValidBytes); err != nil {
			return err
		}
		// Without the key the header cannot be read; its length is known
		// from the ids (the row's call id, when there is a row).
		hdr = Header{RecordingID: id}
		hdr.DataOffset = int64(len(header(id, "", 0)))
		if row, err := cat.GetRecording(ctx, id); err == nil {
			hdr.CallID = row.CallID
			hdr.DataOffset = int64(len(header(id, row.CallID, 0)))
		}
		hdr.DataLen = max(idx.PlainBytes-hdr.DataOffset, 0)
		hdr.DataLen -= hdr.DataLen % blockAlign
	} else {
		if hdr, err = ParseHeader(f, st.Size()); err != nil {
			return err
		}
		if err := f.Truncate(hdr.DataOffset + hdr.DataLen); err != nil {
			return err
		}
		if err := writeSizes(f, hdr.DataOffset, hdr.DataLen); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	final := strings.TrimSuffix(part, partSuffix)
	if err := os.Rename(part, final); err != nil {
		return err
	}
	size, sum, err := digest(final)
	if err != nil {
		return err
	}
	if hdr.RecordingID != "" {
		id = hdr.RecordingID
	}
	row, err := cat.GetRecording(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		format := store.FormatWAV
		if sealedFile {
			format = store.FormatSealedWAV
		}
		row = store.Recording{ID: id, CallID: hdr.CallID, Format: format, StartedAt: st.ModTime().Add(-time.Duration(hdr.DurationMS()) * time.Millisecond)}
	case err != nil:
		return fmt.Errorf("the row of %s: %w", id, err)
	}
	rel, _ := filepath.Rel(s.opt.Dir, final)
	end := st.ModTime()
	dur := hdr.DurationMS()
	row.Path, row.State, row.Reason = filepath.ToSlash(rel), store.RecordingRecovered, "the hotline stopped during the call"
	row.EndedAt, row.DurationMS, row.Bytes, row.SHA256, row.UpdatedAt = &end, dur, size, sum, s.now()
	for i := range row.Segments {
		if row.Segments[i].EndMS == 0 {
			row.Segments[i].EndMS = max(dur, row.Segments[i].StartMS+1)
		}
	}
	for i := range row.Markers {
		if row.Markers[i].EndMS == 0 {
			row.Markers[i].EndMS = max(dur, row.Markers[i].StartMS+1)
		}
	}
	if err := cat.SaveRecording(ctx, row); err != nil {
		return fmt.Errorf("the row of %s: %w", id, err)
	}
	s.log.Info("recording recovered", "recording_id", id, "call_id", row.CallID, "duration_ms", dur, "path", row.Path)
	return nil
}

// openSealed returns the plaintext of a sealed recording with its header's
// sizes filled in; closing it closes f.
func (s *Service) openSealed(f *os.File, row store.Recording) (io.ReadSeekCloser, error) {
	if len(s.opt.Identities) == 0 {
		return nil, fmt.Errorf("recordings: %s is encrypted and no identity to decrypt it is configured (recordings.identity_file)", row.ID)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	rs, err := OpenSealed(f, st.Size(), s.opt.Identities...)
	if err != nil {
		return nil, fmt.Errorf("recordings: %s: %w", row.ID, err)
	}
	return &closer{rs, f}, nil
}

// OpenSealed returns the WAV inside an encrypted recording file of the
// given size (a finished .wav.age, or a recovered one), decrypted with the
// identities as it is read, with the header's sizes filled in (they are 0
// in the file, which is written before its length is known).
func OpenSealed(r io.ReaderAt, size int64, identities ...age.Identity) (io.ReadSeeker, error) {
	idx, err := sealed.Scan(r, size)
	if err != nil {
		return nil, err
	}
	rd := sealed.Open(r, idx, identities...)
	head := make([]byte, min(rd.Size(), maxInfoLen+64))
	if _, err := io.ReadFull(rd, head); err != nil {
		return nil, err
	}
	hdr, err := ParseHeader(bytes.NewReader(head), rd.Size())
	if err != nil {
		return nil, err
	}
	fixed := head[:hdr.DataOffset]
	riff, data := sizeFields(hdr.DataOffset, hdr.DataLen)
	putLE32(fixed[4:], riff)
	putLE32(fixed[hdr.DataOffset-4:], data)
	return &overlay{rd: rd, head: fixed, size: hdr.DataOffset + hdr.DataLen}, nil
}

// closer is a ReadSeeker whose Close closes the file under it.
type closer struct {
	io.ReadSeeker
	c io.Closer
}

func (c *closer) Close() error { return c.c.Close() }

// overlay reads rd with its first bytes replaced by head, up to size.
type overlay struct {
	rd   io.ReadSeeker
	head []byte
	size int64
	pos  int64
}

func (o *overlay) Read(p []byte) (int, error) {
	if o.pos >= o.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), o.size-o.pos)]
	if o.pos < int64(len(o.head)) {
		n := copy(p, o.head[o.pos:])
		o.pos += int64(n)
		return n, nil
	}
	if _, err := o.rd.Seek(o.pos, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := o.rd.Read(p)
	o.pos += int64(n)
	return n, err
}

func (o *overlay) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += o.pos
	case io.SeekEnd:
		off += o.size
	default:
		return o.pos, errors.New("recordings: bad whence")
	}
	if off < 0 {
		return o.pos, errors.New("recordings: seek before the start")
	}
	o.pos = off
	return off, nil
}
