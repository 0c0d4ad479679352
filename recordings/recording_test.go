package recordings

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/store"
)

// clock is a fake wall clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// rows is an in-memory Saver and Catalog.
type rows struct {
	mu   sync.Mutex
	byID map[string]store.Recording
	held map[string]bool
}

func newRows() *rows { return &rows{byID: map[string]store.Recording{}, held: map[string]bool{}} }

func (r *rows) SaveRecording(x store.Recording) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x.LegalHold = r.held[x.ID]
	r.byID[x.ID] = x
}

func (r *rows) get(id string) store.Recording {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

func (r *rows) GetRecording(_ context.Context, id string) (store.Recording, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.byID[id]
	if !ok {
		return x, store.ErrNotFound
	}
	return x, nil
}

func (r *rows) ExpiredRecordings(_ context.Context, now time.Time, limit int) ([]store.Recording, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []store.Recording
	for _, x := range r.byID {
		if x.RetainUntil != nil && !x.RetainUntil.After(now) && !r.held[x.ID] &&
			x.State != store.RecordingDeleted && x.State != store.RecordingActive {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RetainUntil.Before(*out[j].RetainUntil) })
	return out[:min(len(out), limit)], nil
}

// catalog adapts rows to Catalog (whose SaveRecording takes a context).
type catalog struct{ *rows }

func (c catalog) SaveRecording(_ context.Context, x store.Recording) error {
	c.rows.SaveRecording(x)
	return nil
}

type failures struct {
	mu      sync.Mutex
	reasons []string
}

func (f *failures) RecordingStarted()            {}
func (f *failures) RecordingEnded()              {}
func (f *failures) RecordingBytes(int)           {}
func (f *failures) RecordingWrite(time.Duration) {}
func (f *failures) RecordingFailed(reason string) {
	f.mu.Lock()
	f.reasons = append(f.reasons, reason)
	f.mu.Unlock()
}

type fixture struct {
	svc  *Service
	clk  *clock
	rows *rows
	dir  string
	fail *failures
}

func newFixture(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	f := &fixture{clk: &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}, rows: newRows(), dir: t.TempDir(), fail: &failures{}}
	opt := Options{Dir: f.dir, Saver: f.rows, Now: f.clk.now, FlushEvery: time.Hour, Metrics: f.fail}
	if mod != nil {
		mod(&opt)
	}
	svc, err := New(opt)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	f.svc = svc
	return f
}

// tone returns frames of a sine at freq.
func tone(freq float64, frames int) [][]int16 {
	p := media.Tone([]float64{freq}, time.Duration(frames)*frameDuration, 0.3)
	var out [][]int16
	for i := 0; i+FrameSamples <= len(p.Samples); i += FrameSamples {
		out = append(out, p.Samples[i:i+FrameSamples])
	}
	return out
}

// readWAV reads a finished recording's channels.
func readWAV(t *testing.T, name string) (l, r []int16, h Header) {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	h, err = ParseHeader(f, st.Size())
	require.NoError(t, err)
	require.Equal(t, uint32(h.DataLen), h.Declared, "the header's data size matches the data")
	data := make([]byte, h.DataLen)
	_, err = f.ReadAt(data, h.DataOffset)
	require.NoError(t, err)
	for i := 0; i+4 <= len(data); i += 4 {
		l = append(l, int16(binary.LittleEndian.Uint16(data[i:])))
		r = append(r, int16(binary.LittleEndian.Uint16(data[i+2:])))
	}
	return l, r, h
}

// span is the samples of [from, to) milliseconds.
func span(s []int16, fromMS, toMS int) []int16 {
	return s[min(len(s), fromMS*8):min(len(s), toMS*8)]
}

func loud(s []int16, freq float64) bool { return media.Power(s, freq) > 0.01 }

// play runs n frame times: the caller says left (nil: nothing arrives),
// the agent right, and the writer flushes every 25 frames.
func (f *fixture) play(rec *Recording, l, r [][]int16, n int) {
	for i := 0; i < n; i++ {
		f.clk.add(frameDuration)
		if l != nil {
			_ = rec.Caller().WriteFrame(l[i%len(l)])
		}
		if r != nil {
			_ = rec.Heard().WriteFrame(r[i%len(r)])
		}
		if i%25 == 24 {
			f.svc.flushAll()
		}
	}
}

func (f *fixture) finished(t *testing.T, rec *Recording) store.Recording {
	t.Helper()
	rec.Close()
	require.NoError(t, f.svc.Close())
	row := f.rows.get(rec.ID())
	require.Equal(t, store.RecordingComplete, row.State, row.Reason)
	return row
}

// The caller's tone is on the left only, the agent's on the right only,
// the file lasts as long as the call, and its row has the digest.
func TestRecordsCallerLeftAgentRight(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.svc.Start(StartOptions{CallID: "c1", Queue: "support", Retention: 48 * time.Hour})
	f.play(rec, tone(440, 50), tone(1000, 50), 150) // 3 s
	row := f.finished(t, rec)

	require.True(t, strings.HasSuffix(row.Path, rec.ID()+".wav"), row.Path)
	l, r, h := readWAV(t, filepath.Join(f.dir, row.Path))
	require.Equal(t, rec.ID(), h.RecordingID)
	require.Equal(t, "c1", h.CallID)
	require.InDelta(t, 3000, row.DurationMS, 40)
	require.Equal(t, int64(len(l))*1000/SampleRate, row.DurationMS)
	mid := span(l, 500, 2500)
	require.True(t, loud(mid, 440))
	require.False(t, loud(mid, 1000))
	mid = span(r, 500, 2500)
	require.True(t, loud(mid, 1000))
	require.False(t, loud(mid, 440))
	require.Len(t, row.SHA256, 64)
	st, err := os.Stat(filepath.Join(f.dir, row.Path))
	require.NoError(t, err)
	require.Equal(t, st.Size(), row.Bytes)
	require.NotNil(t, row.RetainUntil)
	require.Equal(t, row.EndedAt.Add(48*time.Hour), *row.RetainUntil)
}

// A gap in one side's packets is silence, not a shift: the caller's tone
// after the gap is where the clock says it is.
func TestGapIsSilenceNotShift(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.svc.Start(StartOptions{CallID: "c1"})
	f.play(rec, tone(440, 50), tone(1000, 50), 50) // 0-1 s both
	f.play(rec, nil, tone(1000, 50), 50)           // 1-2 s the caller's packets are lost
	f.play(rec, tone(440, 50), tone(1000, 50), 50) // 2-3 s both
	row := f.finished(t, rec)
	l, r, _ := readWAV(t, filepath.Join(f.dir, row.Path))
	require.InDelta(t, 3000, row.DurationMS, 40)
	require.True(t, loud(span(l, 200, 900), 440))
	require.False(t, loud(span(l, 1200, 1900), 440), "the gap is silence")
	require.True(t, loud(span(l, 2200, 2900), 440), "after the gap the caller is back in place")
	require.True(t, loud(span(r, 1200, 1900), 1000))
}

// Hold and PCI pause are silence on both channels, mute on the agent's;
// each is a marker with its span.
func TestMarkersSilence(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.svc.Start(StartOptions{CallID: "c1"})
	rec.Segment("anna")
	l, r := tone(440, 50), tone(1000, 50)
	f.play(rec, l, r, 50)
	rec.Mark(MarkHold, "anna")
	f.play(rec, l, r, 50) // hold music would be on the right: silence
	rec.Unmark(MarkHold)
	f.play(rec, l, r, 50)
	rec.Mark(MarkMute, "anna")
	f.play(rec, l, r, 50)
	rec.Unmark(MarkMute)
	rec.Mark(MarkPCI, "anna")
	require.True(t, rec.Paused())
	f.play(rec, l, r, 50)
	rec.Unmark(MarkPCI)
	require.False(t, rec.Paused())
	f.play(rec, l, r, 50)
	row := f.finished(t, rec)
	L, R, _ := readWAV(t, filepath.Join(f.dir, row.Path))
	sec := func(s []int16, n int) []int16 { return span(s, n*1000+200, n*1000+800) }
	for n, want := range []struct{ l, r bool }{{true, true}, {false, false}, {true, true}, {true, false}, {false, false}, {true, true}} {
		require.Equal(t, want.l, loud(sec(L, n), 440), "second %d left", n)
		require.Equal(t, want.r, loud(sec(R, n), 1000), "second %d right", n)
	}
	require.Len(t, row.Markers, 3)
	require.Equal(t, store.RecordingMarker{Kind: MarkHold, StartMS: 1000, EndMS: 2000, By: "anna"}, row.Markers[0])
	require.Equal(t, MarkMute, row.Markers[1].Kind)
	require.Equal(t, MarkPCI, row.Markers[2].Kind)
	require.Equal(t, []store.RecordingSegment{{Agent: "anna", StartMS: 0, EndMS: 6000}}, row.Segments)
}

// A transfer is one file with two segments.
func TestSegments(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.svc.Start(StartOptions{CallID: "c1"})
	rec.Segment("anna")
	f.play(rec, tone(440, 50), tone(1000, 50), 100)
	rec.EndSegment()
	f.play(rec, tone(440, 50), nil, 50) // the caller waits for boris
	rec.Segment("boris")
	f.play(rec, tone(440, 50), tone(1000, 50), 100)
	row := f.finished(t, rec)
	require.Equal(t, []store.RecordingSegment{
		{Agent: "anna", StartMS: 0, EndMS: 2000},
		{Agent: "boris", StartMS: 3000, EndMS: 5000},
	}, row.Segments)
	require.Equal(t, []string{"anna", "boris"}, row.Agents())
}

// kill -9: the .part a crashed process left becomes a playable WAV whose
// header matches its data, and its row says recovered.
func TestRecoverPart(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.svc.Start(StartOptions{CallID: "c1"})
	rec.Segment("anna")
	f.play(rec, tone(440, 50), tone(1000, 50), 100) // 2 s, flushed up to 1.84 s
	part := filepath.Join(f.dir, f.rows.get(rec.ID()).Path)
	require.True(t, strings.HasSuffix(part, ".wav.part"))
	// A torn last sample, as a write cut short leaves it.
	fh, err := os.OpenFile(part, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = fh.Write([]byte{1, 2, 3})
	require.NoError(t, err)
	require.NoError(t, fh.Close())
	crashed := make(map[string]store.Recording)
	for k, v := range f.rows.byID {
		crashed[k] = v
	}

	// The next process.
	next := newRows()
	next.byID = crashed
	svc, err := New(Options{Dir: f.dir, Saver: next, FlushEvery: time.Hour})
	require.NoError(t, err)
	defer svc.Close()
	n, err := svc.Recover(context.Background(), catalog{next})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	row := next.get(rec.ID())
	require.Equal(t, store.RecordingRecovered, row.State)
	require.False(t, strings.HasSuffix(row.Path, ".part"))
	l, _, _ := readWAV(t, filepath.Join(f.dir, row.Path))
	require.InDelta(t, 1840, row.DurationMS, 60, "at most the unflushed tail is lost")
	require.Equal(t, int64(len(l))*1000/SampleRate, row.DurationMS)
	require.True(t, loud(span(l, 200, 1500), 440))
	require.Equal(t, row.DurationMS, row.Segments[0].EndMS, "the open segment ends with the audio")
	_, err = os.Stat(part)
	require.ErrorIs(t, err, os.ErrNotExist)

	// A .part whose row never reached the store gets one from its header.
	delete(next.byID, rec.ID())
	require.NoError(t, os.Rename(filepath.Join(f.dir, row.Path), part))
	n, err = svc.Recover(context.Background(), catalog{next})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, "c1", next.get(rec.ID()).CallID)
}

// failingFile fails every write after the first limit bytes, as a full disk.
type failingFile struct {
	*os.File
	limit int
}

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	f.limit -= len(p)
	return f.File.Write(p)
}

// A full disk fails the recording (row, metric, reason) and nothing else:
// the taps keep taking audio without error, and what was written is kept.
func TestDiskFullFailsTheRecording(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Create = func(name string) (File, error) {
			fh, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
			if err != nil {
				return nil, err
			}
			return &failingFile{File: fh, limit: 40000}, nil
		}
	})
	rec := f.svc.Start(StartOptions{CallID: "c1"})
	f.play(rec, tone(440, 50), tone(1000, 50), 200)
	rec.Close()
	require.NoError(t, f.svc.Close())
	row := f.rows.get(rec.ID())
	require.Equal(t, store.RecordingFailed, row.State)
	require.Contains(t, row.Reason, "disk_full")
	require.Contains(t, row.Reason, "no space left")
	require.Equal(t, []string{FailDiskFull}, f.fail.reasons)
	require.NoError(t, rec.Caller().WriteFrame(tone(440, 1)[0]))
	_, _, h := readWAV(t, filepath.Join(f.dir, row.Path))
	require.Positive(t, h.DataLen, "what was written before the disk filled is kept and playable")
}

// A file that cannot be created fails the recording at once.
func TestCreateFailure(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Create = func(string) (File, error) { return nil, errors.New("permission denied") }
	})
	rec := f.svc.Start(StartOptions{CallID: "c1"})
	f.play(rec, tone(440, 50), tone(1000, 50), 50)
	rec.Close()
	require.NoError(t, f.svc.Close())
	row := f.rows.get(rec.ID())
	require.Equal(t, store.RecordingFailed, row.State)
	require.Equal(t, "create: permission denied", row.Reason)
}

// Expired recordings are deleted (file and row), a held one survives, one
// within its retention too.
func TestSweep(t *testing.T) {
	f := newFixture(t, nil)
	var recs []*Recording
	for i, keep := range []time.Duration{time.Hour, time.Hour, 72 * time.Hour} {
		rec := f.svc.Start(StartOptions{CallID: "c" + string(rune('1'+i)), Retention: keep})
		f.play(rec, tone(440, 50), tone(1000, 50), 30)
		rec.Close()
		recs = append(recs, rec)
	}
	require.NoError(t, f.svc.Close())
	f.rows.held[recs[1].ID()] = true
	svc, err := New(Options{Dir: f.dir, Saver: f.rows, Now: f.clk.now})
	require.NoError(t, err)
	defer svc.Close()

	n, err := svc.Sweep(context.Background(), catalog{f.rows})
	require.NoError(t, err)
	require.Zero(t, n, "nothing has expired yet")
	f.clk.add(2 * time.Hour)
	n, err = svc.Sweep(context.Background(), catalog{f.rows})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	gone := f.rows.get(recs[0].ID())
	require.Equal(t, store.RecordingDeleted, gone.State)
	require.Contains(t, gone.Reason, "retention")
	_, err = os.Stat(filepath.Join(f.dir, gone.Path))
	require.ErrorIs(t, err, os.ErrNotExist)
	for _, r := range recs[1:] {
		row := f.rows.get(r.ID())
		require.Equal(t, store.RecordingComplete, row.State)
		_, err = os.Stat(filepath.Join(f.dir, row.Path))
		require.NoError(t, err)
	}
	_, err = svc.OpenAudio(context.Background(), gone)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// Encrypted at rest: the file holds no audio in the clear, plays back with
// the identity (with Range-style seeks), and a crashed one recovers.
func TestSealedRecording(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	f := newFixture(t, func(o *Options) {
		o.Recipient = id.Recipient()
		o.Identities = []age.Identity{id}
	})
	rec := f.svc.Start(StartOptions{CallID: "c1"})
	f.play(rec, tone(440, 50), tone(1000, 50), 100)
	row := f.finished(t, rec)
	require.Equal(t, store.FormatSealedWAV, row.Format)
	require.True(t, strings.HasSuffix(row.Path, ".wav.age"))
	raw, err := os.ReadFile(filepath.Join(f.dir, row.Path))
	require.NoError(t, err)
	require.NotContains(t, string(raw), "RIFF")

	svc, err := New(Options{Dir: f.dir, Saver: f.rows, Identities: []age.Identity{id}})
	require.NoError(t, err)
	defer svc.Close()
	a, err := svc.OpenAudio(context.Background(), row)
	require.NoError(t, err)
	plain, err := io.ReadAll(a)
	require.NoError(t, err)
	require.NoError(t, a.Close())
	tmp := filepath.Join(t.TempDir(), "plain.wav")
	require.NoError(t, os.WriteFile(tmp, plain, 0o600))
	l, r, _ := readWAV(t, tmp)
	require.True(t, loud(span(l, 200, 1800), 440))
	require.True(t, loud(span(r, 200, 1800), 1000))
	require.Equal(t, row.DurationMS, int64(len(l))*1000/SampleRate)

	// Without the identity playback says what is missing.
	bare, err := New(Options{Dir: f.dir, Saver: f.rows})
	require.NoError(t, err)
	defer bare.Close()
	_, err = bare.OpenAudio(context.Background(), row)
	require.ErrorContains(t, err, "identity")
}

// A crashed encrypted recording recovers without the key.
func TestSealedRecover(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	f := newFixture(t, func(o *Options) { o.Recipient = id.Recipient() })
	rec := f.svc.Start(StartOptions{CallID: "c1"})
	f.play(rec, tone(440, 50), tone(1000, 50), 100)
	part := filepath.Join(f.dir, f.rows.get(rec.ID()).Path)
	fh, err := os.OpenFile(part, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = fh.Write([]byte("torn frame"))
	require.NoError(t, err)
	require.NoError(t, fh.Close())

	svc, err := New(Options{Dir: f.dir, Saver: f.rows, Identities: []age.Identity{id}})
	require.NoError(t, err)
	defer svc.Close()
	n, err := svc.Recover(context.Background(), catalog{f.rows})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	row := f.rows.get(rec.ID())
	require.Equal(t, store.RecordingRecovered, row.State)
	require.InDelta(t, 1840, row.DurationMS, 60)
	a, err := svc.OpenAudio(context.Background(), row)
	require.NoError(t, err)
	defer a.Close()
	plain, err := io.ReadAll(a)
	require.NoError(t, err)
	tmp := filepath.Join(t.TempDir(), "plain.wav")
	require.NoError(t, os.WriteFile(tmp, plain, 0o600))
	l, _, _ := readWAV(t, tmp)
	require.Equal(t, row.DurationMS, int64(len(l))*1000/SampleRate)
}

func TestParseModeAndRetention(t *testing.T) {
	m, err := ParseMode("")
	require.NoError(t, err)
	require.Equal(t, ModeBridged, m)
	_, err = ParseMode("always")
	require.ErrorContains(t, err, "want bridged, from_queue, whole or off")
	for in, want := range map[string]time.Duration{"": 0, "0": 0, "90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour} {
		d, err := ParseRetention(in)
		require.NoError(t, err, in)
		require.Equal(t, want, d, in)
	}
	for _, bad := range []string{"-1d", "xd", "forever", "-3h"} {
		_, err := ParseRetention(bad)
		require.Error(t, err, bad)
	}
}
