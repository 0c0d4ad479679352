// Package recordings records calls: one stereo WAV file per call (left the
// caller, right the agent), written crash-safe as a .part file flushed to the
// kernel every half second, finished with its size, digest and duration when
// the call ends, recovered after a crash, optionally encrypted at rest to an
// age recipient (recordings/sealed), and deleted by a retention sweeper.
//
// The media path hands a Recording its audio through two FrameWriters
// (Caller and Heard) from the media goroutines; those calls only copy a frame
// into the recording's memory, never touch the disk and never block on it.
// One writer goroutine of the Service moves every recording's audio to disk;
// a full disk or a failed write marks that recording failed (and counts it)
// while the call goes on.
package recordings

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/recordings/sealed"
)

// Saver takes recording rows without blocking; *store.Writer is one.
type Saver interface {
	SaveRecording(r store.Recording)
}

// Metrics counts what the recorder does; *metrics.Recordings is one.
type Metrics interface {
	RecordingStarted()
	RecordingEnded()
	RecordingBytes(n int)
	RecordingFailed(reason string)
	RecordingWrite(d time.Duration)
}

// Reasons passed to Metrics.RecordingFailed (a bounded label).
const (
	FailDiskFull = "disk_full" // ENOSPC or EDQUOT
	FailWrite    = "write"     // any other write error
	FailCreate   = "create"    // the file could not be created
	FailFinish   = "finish"    // writing the header, syncing or renaming failed
	FailOverflow = "overflow"  // the disk was too slow: audio was lost
)

// ErrNotFinished is returned by OpenAudio for a recording still being written.
var ErrNotFinished = errors.New("recordings: still recording")

// File is what the Service writes a recording to; *os.File is one.
type File interface {
	io.Writer
	io.WriterAt
	io.Seeker
	Truncate(size int64) error
	Sync() error
	Close() error
}

// Options configure a Service.
type Options struct {
	// Dir is where recordings live: Dir/YYYY/MM/DD/<id>.wav (created when missing).
	Dir     string
	Saver   Saver   // the rows; required
	Metrics Metrics // nil counts nothing
	Logger  *slog.Logger
	Now     func() time.Time // nil: time.Now
	// FlushEvery is how often audio is handed to the kernel (default 500 ms);
	// a kill -9 loses at most this plus about 0.2 s.
	FlushEvery time.Duration
	// Recipient, when set, encrypts every new recording to it (sealed
	// frames, FormatSealedWAV); Identities decrypt them for playback.
	Recipient  age.Recipient
	Identities []age.Identity
	// Create opens a new file for writing (a test seam; nil: os.OpenFile
	// with O_CREATE|O_EXCL, mode 0640).
	Create func(name string) (File, error)
}

// Service records calls. New starts its writer goroutine; Close stops it,
// after finishing every recording.
type Service struct {
	opt     Options
	log     *slog.Logger
	metrics Metrics
	now     func() time.Time

	mu      sync.Mutex
	active  map[*Recording]struct{}
	closing bool

	done      chan struct{}
	wg        sync.WaitGroup // the writer goroutine and every finishing recording
	closeOnce sync.Once
}

// New starts a Service.
func New(opt Options) (*Service, error) {
	if opt.Dir == "" {
		return nil, errors.New("recordings: no directory")
	}
	if opt.Saver == nil {
		return nil, errors.New("recordings: no saver for the rows")
	}
	if err := os.MkdirAll(opt.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	if opt.FlushEvery <= 0 {
		opt.FlushEvery = 500 * time.Millisecond
	}
	if opt.Create == nil {
		opt.Create = func(name string) (File, error) {
			return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		}
	}
	s := &Service{
		opt: opt, log: opt.Logger, metrics: opt.Metrics, now: opt.Now,
		active: map[*Recording]struct{}{}, done: make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = nopMetrics{}
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.wg.Add(1)
	go s.run()
	return s, nil
}

type nopMetrics struct{}

func (nopMetrics) RecordingStarted()            {}
func (nopMetrics) RecordingEnded()              {}
func (nopMetrics) RecordingBytes(int)           {}
func (nopMetrics) RecordingFailed(string)       {}
func (nopMetrics) RecordingWrite(time.Duration) {}

// Close finishes every recording still open and stops the writer; it is
// idempotent.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		var open []*Recording
		for r := range s.active {
			open = append(open, r)
		}
		s.mu.Unlock()
		for _, r := range open {
			r.Close()
		}
		close(s.done)
		s.wg.Wait()
	})
	return nil
}

// StartOptions describe the call a recording is for.
type StartOptions struct {
	CallID string
	Queue  string
	// Retention is how long the file is kept after the call; 0 keeps it
	// until deleted by hand.
	Retention time.Duration
	Logger    *slog.Logger // carries the call id; nil: the Service's
}

// Start begins recording now. It never fails: a recording that cannot be
// written is marked failed (row and metric) and takes audio into nothing.
func (s *Service) Start(o StartOptions) *Recording {
	now := s.now()
	id := newID()
	ext := ".wav"
	format := store.FormatWAV
	if s.opt.Recipient != nil {
		ext, format = ".wav.age", store.FormatSealedWAV
	}
	log := o.Logger
	if log == nil {
		log = s.log.With("call_id", o.CallID)
	}
	r := &Recording{
		svc: s, log: log, start: now,
		ring: make([]int16, ringFrames*FrameSamples*Channels),
		row: store.Recording{
			ID: id, CallID: o.CallID, Format: format, State: store.RecordingActive, Queue: o.Queue,
			Path:      path.Join(now.UTC().Format("2006/01/02"), id+ext+partSuffix),
			StartedAt: now, UpdatedAt: now,
		},
		retention: o.Retention,
	}
	if o.Retention > 0 {
		t := now.Add(o.Retention)
		r.row.RetainUntil = &t
	}
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.active[r] = struct{}{}
	}
	s.mu.Unlock()
	if closing {
		r.closed = true
		return r
	}
	s.metrics.RecordingStarted()
	s.save(r.snapshotLocked())
	log.Info("recording started", "recording_id", id, "queue", o.Queue)
	return r
}

// partSuffix marks a file being written.
const partSuffix = ".part"

func newID() string {
	if u, err := uuid.NewV7(); err == nil {
		return u.String()
	}
	return uuid.NewString()
}

func (s *Service) save(row store.Recording) { s.opt.Saver.SaveRecording(row) }

// run flushes every recording's audio to its file every FlushEvery.
func (s *Service) run() {
	defer s.wg.Done()
	t := time.NewTicker(s.opt.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.flushAll()
		}
	}
}

func (s *Service) flushAll() {
	s.mu.Lock()
	list := make([]*Recording, 0, len(s.active))
	for r := range s.active {
		list = append(list, r)
	}
	s.mu.Unlock()
	now := s.now()
	for _, r := range list {
		r.fmu.Lock()
		s.flush(r, r.frameAt(now)-flushMargin)
		r.fmu.Unlock()
	}
}

// flush writes r's frames before target; the caller holds r.fmu.
func (s *Service) flush(r *Recording, target int64) {
	if r.isFailed() {
		return
	}
	if r.sink == nil && !s.open(r) {
		return
	}
	r.mu.Lock()
	lost := r.lost
	r.lost = 0
	r.mu.Unlock()
	if lost > 0 {
		r.log.Warn("recording lost audio: the disk is too slow", "recording_id", r.row.ID, "frames", lost)
		s.metrics.RecordingFailed(FailOverflow)
	}
	if r.take(target) == 0 {
		return
	}
	began := time.Now()
	err := r.sink.write(r.out)
	s.metrics.RecordingWrite(time.Since(began))
	if err != nil {
		r.fail(failReason(err), err)
		return
	}
	r.written += int64(len(r.out))
	s.metrics.RecordingBytes(len(r.out))
}

// open creates r's file and writes its header; the caller holds r.fmu.
func (s *Service) open(r *Recording) bool {
	name := filepath.Join(s.opt.Dir, filepath.FromSlash(r.row.Path))
	if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		r.fail(FailCreate, err)
		return false
	}
	f, err := s.opt.Create(name)
	if err != nil {
		r.fail(FailCreate, err)
		return false
	}
	hdr := header(r.row.ID, r.row.CallID, 0)
	r.dataOffset = int64(len(hdr))
	if s.opt.Recipient != nil {
		w, err := sealed.NewWriter(f, s.opt.Recipient)
		if err != nil {
			_ = f.Close()
			r.fail(FailCreate, err)
			return false
		}
		r.sink = &sealedSink{f: f, w: w, part: name}
	} else {
		r.sink = &plainSink{f: f, part: name}
	}
	if err := r.sink.write(hdr); err != nil {
		r.fail(failReason(err), err)
		return false
	}
	return true
}

// failReason names a write error for the metric.
func failReason(err error) string {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return FailDiskFull
	}
	return FailWrite
}

// finish completes r in the background: the tail, the header, the rename,
// the digest, the row.
func (s *Service) finish(r *Recording) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		r.fmu.Lock()
		defer r.fmu.Unlock()
		s.mu.Lock()
		delete(s.active, r)
		s.mu.Unlock()
		s.flush(r, r.end)
		s.complete(r)
		s.metrics.RecordingEnded()
	}()
}

// complete finishes the file of a closed or failed recording and saves its
// final row; the caller holds r.fmu.
func (s *Service) complete(r *Recording) {
	now := s.now()
	r.mu.Lock()
	failed := r.failed
	r.mu.Unlock()
	row := store.Recording{}
	if r.sink != nil {
		final, err := r.sink.finish(r.dataOffset, r.written)
		if err != nil && !failed {
			r.fail(FailFinish, err)
			failed = true
		}
		if err == nil {
			rel, _ := filepath.Rel(s.opt.Dir, final)
			size, sum, herr := digest(final)
			r.mu.Lock()
			r.row.Path = filepath.ToSlash(rel)
			r.row.Bytes, r.row.SHA256 = size, sum
			r.mu.Unlock()
			if herr != nil {
				r.log.Warn("recording digest", "recording_id", r.row.ID, "err", herr)
			}
		}
	}
	r.mu.Lock()
	if !failed {
		r.row.State = store.RecordingComplete
	}
	r.row.EndedAt = &now
	r.row.DurationMS = r.written * 1000 / BytesPerSecond
	if r.retention > 0 {
		t := now.Add(r.retention)
		r.row.RetainUntil = &t
	}
	row = r.snapshotLocked()
	r.mu.Unlock()
	s.save(row)
	r.log.Info("recording finished", "recording_id", row.ID, "state", row.State, "duration_ms", row.DurationMS,
		"bytes", row.Bytes, "path", row.Path)
}

// discard drops r: its file is removed and its row marked deleted.
func (s *Service) discard(r *Recording) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		r.fmu.Lock()
		defer r.fmu.Unlock()
		s.mu.Lock()
		delete(s.active, r)
		s.mu.Unlock()
		if r.sink != nil {
			r.sink.abort()
			_ = os.Remove(filepath.Join(s.opt.Dir, filepath.FromSlash(r.row.Path)))
		}
		now := s.now()
		r.mu.Lock()
		r.row.State, r.row.Reason = store.RecordingDeleted, "not recorded: the call's queue does not record its IVR"
		r.row.EndedAt = &now
		row := r.snapshotLocked()
		r.mu.Unlock()
		s.save(row)
		s.metrics.RecordingEnded()
	}()
}

// digest returns a file's size and hex SHA-256.
func digest(name string) (int64, string, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// plainSink writes a WAV .part file.
type plainSink struct {
	f    File
	part string
}

func (p *plainSink) write(b []byte) error {
	_, err := p.f.Write(b)
	return err
}

func (p *plainSink) finish(dataOffset, dataLen int64) (string, error) {
	return syncAndRename(p.f, p.part, writeSizes(p.f, dataOffset, dataLen))
}

// writeSizes writes the RIFF and data sizes of a header whose audio starts
// at dataOffset and holds dataLen bytes.
func writeSizes(f io.WriterAt, dataOffset, dataLen int64) error {
	riff, data := sizeFields(dataOffset, dataLen)
	var b [4]byte
	putLE32(b[:], riff)
	if _, err := f.WriteAt(b[:], 4); err != nil {
		return err
	}
	putLE32(b[:], data)
	_, err := f.WriteAt(b[:], dataOffset-4)
	return err
}

// syncAndRename flushes and closes a finished .part file (unless err says
// finishing it already failed) and gives it its final name, returned.
func syncAndRename(f File, part string, err error) (string, error) {
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	final := strings.TrimSuffix(part, partSuffix)
	return final, os.Rename(part, final)
}

func (p *plainSink) abort() { _ = p.f.Close() }

func (p *plainSink) rewind(header int64) error { return truncate(p.f, header) }

// truncate cuts f to size and writes on from there.
func truncate(f File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	_, err := f.Seek(size, io.SeekStart)
	return err
}

// sealedSink writes sealed frames of the WAV bytes; the header's sizes stay
// 0 (playback and recovery compute them).
type sealedSink struct {
	f         File
	w         *sealed.Writer
	part      string
	headerEnd int64 // the end of the frame that holds the header (the first)
}

func (s *sealedSink) write(b []byte) error {
	err := s.w.Seal(b)
	if s.headerEnd == 0 {
		s.headerEnd = s.w.Written()
	}
	return err
}

func (s *sealedSink) rewind(int64) error { return truncate(s.f, s.headerEnd) }

func (s *sealedSink) finish(int64, int64) (string, error) { return syncAndRename(s.f, s.part, nil) }

func (s *sealedSink) abort() { _ = s.f.Close() }

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// OpenAudio returns the playable WAV bytes of a finished recording (sealed
// ones decrypted as they are read, with the header's sizes filled in). It
// fails with ErrNotFinished while recording, and with an error wrapping
// fs.ErrNotExist when the file is gone.
func (s *Service) OpenAudio(_ context.Context, row store.Recording) (io.ReadSeekCloser, error) {
	switch row.State {
	case store.RecordingActive:
		return nil, ErrNotFinished
	case store.RecordingDeleted:
		return nil, fmt.Errorf("recordings: %s was deleted: %w", row.ID, fs.ErrNotExist)
	}
	if !filepath.IsLocal(filepath.FromSlash(row.Path)) {
		return nil, fmt.Errorf("recordings: %s: path %q is outside the recordings directory: %w", row.ID, row.Path, fs.ErrNotExist)
	}
	name := filepath.Join(s.opt.Dir, filepath.FromSlash(row.Path))
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	if row.Format != store.FormatSealedWAV {
		return f, nil
	}
	rs, err := s.openSealed(f, row)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return rs, nil
}
