package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// fakeOutbox is an in-memory store.OutboxStore read side.
type fakeOutbox struct {
	mu        sync.Mutex
	msgs      []store.OutboxMessage
	delivered map[string]map[string]time.Time // endpoint → id → at
	marks     int                             // MarkDelivered calls
}

var _ Outbox = (*fakeOutbox)(nil)
var _ Outbox = (store.OutboxStore)(nil)

func newFakeOutbox() *fakeOutbox {
	return &fakeOutbox{delivered: map[string]map[string]time.Time{}}
}

// add appends a message with the next seq.
func (f *fakeOutbox) add(t *testing.T, topic, key string, payload any) store.OutboxMessage {
	t.Helper()
	b, err := json.Marshal(payload)
	require.NoError(t, err)
	f.mu.Lock()
	defer f.mu.Unlock()
	seq := int64(len(f.msgs) + 1)
	m := store.OutboxMessage{ID: fmt.Sprintf("%s:%d", key, seq), Seq: seq, Topic: topic, Key: key, At: time.Now(), Payload: b}
	f.msgs = append(f.msgs, m)
	return m
}

func (f *fakeOutbox) PendingOutbox(ctx context.Context, endpoint string, afterSeq int64, limit int) ([]store.OutboxMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.OutboxMessage
	for _, m := range f.msgs {
		if _, done := f.delivered[endpoint][m.ID]; m.Seq > afterSeq && !done && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

func (f *fakeOutbox) MarkDelivered(_ context.Context, endpoint, id string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.marks++
	if f.delivered[endpoint] == nil {
		f.delivered[endpoint] = map[string]time.Time{}
	}
	if _, ok := f.delivered[endpoint][id]; !ok {
		f.delivered[endpoint][id] = at
	}
	return nil
}

// pending counts the messages endpoint has not got.
func (f *fakeOutbox) pending(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.msgs) - len(f.delivered[endpoint])
}

func (f *fakeOutbox) isDelivered(endpoint, id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.delivered[endpoint][id]
	return ok
}

// fakeMetrics counts what the dispatcher reports.
type fakeMetrics struct {
	mu     sync.Mutex
	counts map[string]int // "endpoint/result"
	oldest map[string]time.Duration
}

func newFakeMetrics() *fakeMetrics {
	return &fakeMetrics{counts: map[string]int{}, oldest: map[string]time.Duration{}}
}

func (m *fakeMetrics) WebhookAttempt(endpoint string, ok bool, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ok {
		m.counts[endpoint+"/delivered"]++
	} else {
		m.counts[endpoint+"/failed"]++
	}
}

func (m *fakeMetrics) WebhookDropped(endpoint, result string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[endpoint+"/"+result]++
}

func (m *fakeMetrics) WebhookOldestPending(endpoint string, age time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.oldest[endpoint] = age
}

func (m *fakeMetrics) count(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[key]
}

func (m *fakeMetrics) oldestOf(endpoint string) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.oldest[endpoint]
}

// received collects what a Receiver reports.
type received struct {
	mu  sync.Mutex
	all []Received
}

func (r *received) add(e Received) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, e)
}

func (r *received) list() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}

// firstIDs returns the ids of the verified, non-duplicate events, in arrival order.
func (r *received) firstIDs() []string {
	var ids []string
	for _, e := range r.list() {
		if e.Verified && !e.Duplicate {
			ids = append(ids, e.Event.ID)
		}
	}
	return ids
}

// noWorkers fails unless every delivery goroutine has exited (go.uber.org/goleak
// is not a dependency; this looks for the package's own goroutines). A
// goroutine that has just called wg.Done may still be on its way out, so it
// looks again for a moment.
func noWorkers(t *testing.T) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		last = workerStack()
		if last == "" {
			return
		}
	}
	t.Fatalf("a delivery goroutine is still running:\n%s", last)
}

func workerStack() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "webhooks.(*worker)") || strings.Contains(g, "webhooks.(*Dispatcher).Start") {
			return g
		}
	}
	return ""
}

func testOptions(m Metrics) Options {
	return Options{
		Metrics: m, BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		PollEvery: 20 * time.Millisecond,
	}
}
