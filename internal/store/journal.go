package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The spill journal is where the Writer puts records it cannot keep in
// memory: events and audit events beyond WriterConfig.MaxPending, and
// everything still pending when Close gives up (call and recording snapshots,
// events, audit events). Files are append-only JSON lines named
// journal-<unix-nanos>-<n>.jsonl in WriterConfig.JournalDir; a Writer replays
// (and then deletes) every journal file it finds, including those left by a
// previous process. Replay is safe to repeat: events are idempotent on
// (CallID, Seq), audit events on ID, and call and recording snapshots are
// upserts. Each line has one key naming its kind ("call", "event",
// "recording", "audit"), so files written before a kind existed replay
// unchanged.

// journalRecord is one line of a journal file: exactly one field is set.
type journalRecord struct {
	Call      *Call       `json:"call,omitempty"`
	Event     *Event      `json:"event,omitempty"`
	Recording *Recording  `json:"recording,omitempty"`
	Audit     *AuditEvent `json:"audit,omitempty"`
}

const (
	journalPrefix = "journal-"
	journalSuffix = ".jsonl"
	// maxJournalLine bounds one record, so a corrupt file cannot make replay
	// allocate without limit.
	maxJournalLine = 1 << 20
)

// journal owns the files of one JournalDir. It is not safe for concurrent
// use; the Writer serializes access with its own lock.
type journal struct {
	dir     string
	active  *os.File // file appends go to; nil until the first spill
	name    string   // active file's path
	serial  int
	sealed  []string       // closed files waiting for replay, oldest first
	counts  map[string]int // records per sealed file
	nActive int            // records in the active file
}

// openJournal creates dir if needed and finds files left for replay. It
// returns the journal and how many records those files hold.
func openJournal(dir string) (*journal, int, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, 0, fmt.Errorf("store: journal: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("store: journal: %w", err)
	}
	j := &journal{dir: dir, counts: map[string]int{}}
	total := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), journalPrefix) || !strings.HasSuffix(e.Name(), journalSuffix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		n, err := countLines(p)
		if err != nil {
			return nil, 0, fmt.Errorf("store: journal: %w", err)
		}
		j.sealed = append(j.sealed, p)
		j.counts[p] = n
		total += n
	}
	sort.Strings(j.sealed)
	return j, total, nil
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	n := 0
	buf := make([]byte, 32*1024)
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// append writes one record as a line to the active file (creating it).
func (j *journal) append(rec journalRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("store: journal: encode: %w", err)
	}
	if j.active == nil {
		j.serial++
		name := filepath.Join(j.dir, journalPrefix+strconv.FormatInt(time.Now().UnixNano(), 10)+
			"-"+strconv.Itoa(j.serial)+journalSuffix)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("store: journal: %w", err)
		}
		j.active, j.name = f, name
	}
	if _, err := j.active.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("store: journal: write %s: %w", j.name, err)
	}
	j.nActive++
	return nil
}

// seal closes the active file and queues it for replay.
func (j *journal) seal() error {
	if j.active == nil {
		return nil
	}
	err := j.active.Close()
	j.sealed = append(j.sealed, j.name)
	j.counts[j.name] = j.nActive
	j.active, j.name, j.nActive = nil, "", 0
	if err != nil {
		return fmt.Errorf("store: journal: close: %w", err)
	}
	return nil
}

// done drops the head sealed file (fully replayed, or gone).
func (j *journal) done() {
	delete(j.counts, j.sealed[0])
	j.sealed = j.sealed[1:]
}

// close seals the active file; the sealed files stay for the next Writer.
func (j *journal) close() error {
	return j.seal()
}

// journalBatch is a run of records read from one sealed file.
type journalBatch struct {
	path       string
	calls      []Call
	events     []Event
	recordings []Recording
	audit      []AuditEvent
	records    int   // lines consumed, including corrupt ones
	corrupt    []int // line offsets (bytes) that did not decode
	end        int64 // file offset after the batch
	eof        bool  // the batch ends the file
}

// readBatch reads up to max records of path from offset.
func readBatch(path string, offset int64, max int) (journalBatch, error) {
	b := journalBatch{path: path, end: offset}
	f, err := os.Open(path)
	if err != nil {
		return b, fmt.Errorf("store: journal: %w", err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return b, fmt.Errorf("store: journal: %w", err)
	}
	r := bufio.NewReaderSize(f, 64*1024)
	for b.records < max {
		line, n, err := readLine(r)
		if errors.Is(err, io.EOF) && n == 0 {
			b.eof = true
			return b, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return b, fmt.Errorf("store: journal: read %s: %w", path, err)
		}
		start := b.end
		b.end += int64(n)
		b.records++
		var rec journalRecord
		switch {
		case json.Unmarshal(bytes.TrimSpace(line), &rec) != nil:
			b.corrupt = append(b.corrupt, int(start))
		case rec.Call != nil:
			b.calls = append(b.calls, *rec.Call)
		case rec.Event != nil:
			b.events = append(b.events, *rec.Event)
		case rec.Recording != nil:
			b.recordings = append(b.recordings, *rec.Recording)
		case rec.Audit != nil:
			b.audit = append(b.audit, *rec.Audit)
		default:
			b.corrupt = append(b.corrupt, int(start))
		}
		if errors.Is(err, io.EOF) {
			b.eof = true
			return b, nil
		}
	}
	return b, nil
}

// readLine returns the next line and the bytes it took in the file. A line
// longer than maxJournalLine is returned cut (and then fails to decode).
func readLine(r *bufio.Reader) (line []byte, n int, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		n += len(chunk)
		if len(line)+len(chunk) <= maxJournalLine {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, n, err
	}
}
