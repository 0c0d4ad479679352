package webhooks

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

func hotlineEndpoint(name, url string) Endpoint {
	return Endpoint{Name: name, URL: url, Secret: testSecret}
}

// addCalls writes a realistic mix: per call ringing/answered/ended, with a
// ticket and a recording in between, keys interleaved.
func addCalls(t *testing.T, ob *fakeOutbox, calls int) {
	t.Helper()
	for i := range calls {
		id := "call-" + strconv.Itoa(i)
		ob.add(t, store.TopicCallRinging, id, CallPayload{CallID: id, From: "+4930" + strconv.Itoa(i), To: "100", Queue: "support"})
	}
	for i := range calls {
		id := "call-" + strconv.Itoa(i)
		ob.add(t, store.TopicCallAnswered, id, CallPayload{CallID: id, Agent: "anna"})
		ob.add(t, store.TopicTicketCreated, "T-00000"+strconv.Itoa(i), store.Ticket{Number: int64(i), Subject: "help"})
	}
	for i := range calls {
		id := "call-" + strconv.Itoa(i)
		ob.add(t, store.TopicCallEnded, id, CallPayload{CallID: id, Agent: "anna", Cause: "answered"})
		ob.add(t, store.TopicRecordingReady, id, RecordingPayload{RecordingID: "r" + id, CallID: id})
		ob.add(t, store.TopicTicketUpdated, "T-00000"+strconv.Itoa(i), store.Ticket{Number: int64(i), Status: "open"})
	}
}

// The receiver is down (503) for its first 5 s, then up, and now and then
// loses its response after taking an event (so the event is sent again).
// Every event arrives, verified, in outbox order (hence in order per key),
// and the Receiver tells the repeats apart.
func TestFlakyReceiverGetsEverythingInOrder(t *testing.T) {
	const downFor = 5 * time.Second
	ob := newFakeOutbox()
	addCalls(t, ob, 4)

	var got received
	rcv := NewReceiver(testSecret, got.add)
	var (
		mu        sync.Mutex
		upAt      = time.Now().Add(downFor)
		refused   int
		lost      = map[string]bool{}
		firstKeys []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if time.Now().Before(upAt) {
			refused++
			http.Error(w, "starting up", http.StatusServiceUnavailable)
			return
		}
		rec := httptest.NewRecorder()
		rcv.ServeHTTP(rec, r)
		id := r.Header.Get(HeaderEventID)
		if rec.Code == http.StatusOK && rec.Body.String() == "ok\n" {
			firstKeys = append(firstKeys, id)
			if len(firstKeys)%3 == 0 && !lost[id] {
				lost[id] = true
				http.Error(w, "lost the response", http.StatusBadGateway)
				return
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = io.Copy(w, rec.Body)
	}))
	defer srv.Close()

	m := newFakeMetrics()
	d, err := New(ob, []Endpoint{hotlineEndpoint("crm", srv.URL)}, testOptions(m))
	require.NoError(t, err)
	d.Start(t.Context())
	defer d.Close()

	time.Sleep(downFor / 2)
	addCalls(t, ob, 2) // more while it is down
	d.Notify()

	require.Eventually(t, func() bool { return ob.pending("crm") == 0 }, downFor+10*time.Second, 20*time.Millisecond)
	require.NoError(t, d.Close())
	mu.Lock()
	defer mu.Unlock()

	ob.mu.Lock()
	var want []string
	for _, msg := range ob.msgs {
		want = append(want, msg.ID)
	}
	ob.mu.Unlock()
	require.Equal(t, want, got.firstIDs(), "every event once after de-duplication, in seq order")

	dups := 0
	for _, e := range got.list() {
		require.True(t, e.Verified, "every delivery that reached the Receiver verifies: %v", e.Err)
		if e.Duplicate {
			dups++
			require.True(t, lost[e.Event.ID], "only events whose response was lost come again")
		}
	}
	require.Equal(t, len(lost), dups)
	require.Positive(t, refused, "the receiver refused while starting up")
	require.Equal(t, len(want), m.count("crm/delivered"), "one successful POST per event")
	require.Equal(t, refused+len(lost), m.count("crm/failed"))
	require.Zero(t, m.oldestOf("crm"), "caught up")
	noWorkers(t)
}

// A dispatcher closed with events undelivered leaves them in the outbox; a
// new one over the same outbox delivers them, and only them.
func TestRestartDeliversWhatIsLeft(t *testing.T) {
	ob := newFakeOutbox()
	addCalls(t, ob, 3)
	total := ob.pending("crm")

	var (
		calls atomic.Int32
		mu    sync.Mutex
		ids   []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, Verify(testSecret, r.Header, mustRead(t, r), time.Now(), 0))
		if calls.Add(1) > 4 { // the first run delivers four, then the receiver fails
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		mu.Lock()
		ids = append(ids, r.Header.Get(HeaderEventID))
		mu.Unlock()
	}))
	defer srv.Close()

	d1, err := New(ob, []Endpoint{hotlineEndpoint("crm", srv.URL)}, testOptions(nil))
	require.NoError(t, err)
	d1.Start(t.Context())
	require.Eventually(t, func() bool { return calls.Load() >= 6 }, 5*time.Second, 5*time.Millisecond, "failing after four")
	require.NoError(t, d1.Close())
	require.Equal(t, total-4, ob.pending("crm"))
	noWorkers(t)

	calls.Store(-100) // up again
	d2, err := New(ob, []Endpoint{hotlineEndpoint("crm", srv.URL)}, testOptions(nil))
	require.NoError(t, err)
	d2.Start(t.Context())
	defer d2.Close()
	require.Eventually(t, func() bool { return ob.pending("crm") == 0 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, d2.Close())

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, ids, total, "nothing delivered twice across the restart")
	for i, msg := range ob.msgs {
		require.Equal(t, msg.ID, ids[i])
	}
}

// mustRead reads a request body in a handler (assert: not the test's goroutine).
func mustRead(t *testing.T, r *http.Request) []byte {
	b, err := io.ReadAll(r.Body)
	assert.NoError(t, err)
	return b
}

// Topics an endpoint did not subscribe to are marked delivered without a
// request; so are non-call topics for a zammad endpoint.
func TestUnsubscribedTopicsAreSkipped(t *testing.T) {
	ob := newFakeOutbox()
	addCalls(t, ob, 2)

	var mu sync.Mutex
	topics := map[string][]string{}
	bodies := map[string][]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		b := mustRead(t, r)
		switch r.URL.Path {
		case "/crm":
			assert.NoError(t, Verify(testSecret, r.Header, b, time.Now(), 0))
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			topics["crm"] = append(topics["crm"], r.Header.Get(HeaderEvent))
		case "/api/v1/cti/TOKEN":
			assert.Empty(t, r.Header.Get(HeaderSignature), "zammad deliveries are not signed")
			assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
			form, err := url.ParseQuery(string(b))
			assert.NoError(t, err)
			topics["zammad"] = append(topics["zammad"], form.Get("event"))
			bodies["zammad"] = append(bodies["zammad"], string(b))
		}
	}))
	defer srv.Close()

	m := newFakeMetrics()
	crm := hotlineEndpoint("crm", srv.URL+"/crm")
	crm.Events = []string{store.TopicCallEnded, store.TopicRecordingReady}
	zammad := Endpoint{Name: "zammad", Format: FormatZammad, URL: srv.URL + "/api/v1/cti/TOKEN"}
	d, err := New(ob, []Endpoint{crm, zammad}, testOptions(m))
	require.NoError(t, err)
	d.Start(t.Context())
	defer d.Close()
	require.Eventually(t, func() bool { return ob.pending("crm") == 0 && ob.pending("zammad") == 0 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, d.Close())

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"call.ended", "recording.ready", "call.ended", "recording.ready"}, topics["crm"])
	require.Equal(t, []string{"newCall", "newCall", "answer", "answer", "hangup", "hangup"}, topics["zammad"])
	require.Equal(t, "event=hangup&from=anonymous&to=&direction=in&callId=call-0&user%5B%5D=anna&answeringNumber=anna&cause=normalClearing",
		bodies["zammad"][4])
	total := len(ob.msgs)
	require.Equal(t, 4, m.count("crm/delivered"))
	require.Equal(t, total-4, m.count("crm/skipped"))
	require.Equal(t, 6, m.count("zammad/delivered"))
	require.Equal(t, total-6, m.count("zammad/skipped"))
}

// A message that fails for longer than GiveUpAfter is dead-lettered: marked
// delivered, logged, counted; the endpoint moves on.
func TestGiveUpOnPoisonedMessage(t *testing.T) {
	ob := newFakeOutbox()
	poison := ob.add(t, store.TopicCallRinging, "c1", CallPayload{CallID: "c1"})
	next := ob.add(t, store.TopicCallEnded, "c1", CallPayload{CallID: "c1"})

	var attempts atomic.Int32
	var gotNext atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get(HeaderEventID) {
		case poison.ID:
			attempts.Add(1)
			http.Error(w, "cannot parse this", http.StatusUnprocessableEntity)
		case next.ID:
			gotNext.Store(true)
		}
	}))
	defer srv.Close()

	// A fake clock: each reading is a minute later, so GiveUpAfter (one
	// hour) passes after some sixty failed attempts without waiting an hour.
	var mu sync.Mutex
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Minute)
		return clock
	}
	m := newFakeMetrics()
	opt := testOptions(m)
	opt.Now, opt.GiveUpAfter = now, time.Hour
	opt.BackoffMin, opt.BackoffMax = time.Millisecond, 2*time.Millisecond
	ep := hotlineEndpoint("crm", srv.URL)
	d, err := New(ob, []Endpoint{ep}, opt)
	require.NoError(t, err)
	d.Start(t.Context())
	defer d.Close()

	require.Eventually(t, gotNext.Load, 10*time.Second, 5*time.Millisecond, "the next message goes out after the give-up")
	require.NoError(t, d.Close())
	require.True(t, ob.isDelivered("crm", poison.ID), "dead-lettered = marked delivered")
	require.Equal(t, 1, m.count("crm/dead"))
	require.Equal(t, int(attempts.Load()), m.count("crm/failed"))
	require.Greater(t, attempts.Load(), int32(2), "retried before giving up")
}

// Notify wakes an idle endpoint without waiting for its poll.
func TestNotifyWakesTheEndpoint(t *testing.T) {
	ob := newFakeOutbox()
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got.Add(1) }))
	defer srv.Close()
	opt := testOptions(nil)
	opt.PollEvery = time.Hour
	d, err := New(ob, []Endpoint{hotlineEndpoint("crm", srv.URL)}, opt)
	require.NoError(t, err)
	d.Start(t.Context())
	defer d.Close()
	time.Sleep(50 * time.Millisecond) // let it go idle
	ob.add(t, store.TopicCallRinging, "c1", CallPayload{CallID: "c1"})
	d.Notify()
	d.Notify() // never blocks
	require.Eventually(t, func() bool { return got.Load() == 1 }, 2*time.Second, 5*time.Millisecond)
}

func TestCloseIsIdempotentAndWaits(t *testing.T) {
	ob := newFakeOutbox()
	ob.add(t, store.TopicCallRinging, "c1", CallPayload{CallID: "c1"})
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a receiver that never answers: Close must abandon the attempt
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)

	eps := []Endpoint{hotlineEndpoint("a", srv.URL), hotlineEndpoint("b", srv.URL)}
	d, err := New(ob, eps, testOptions(nil))
	require.NoError(t, err)
	require.NoError(t, d.Close(), "Close before Start")
	d.Start(t.Context())
	noWorkers(t) // Start after Close does nothing

	d, err = New(ob, eps, testOptions(nil))
	require.NoError(t, err)
	d.Start(t.Context())
	d.Start(t.Context())
	time.Sleep(50 * time.Millisecond)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { require.NoError(t, d.Close()) })
	}
	wg.Wait()
	require.NoError(t, d.Close())
	noWorkers(t)
	require.Equal(t, 1, ob.pending("a"), "the abandoned attempt leaves the message pending")
	d.Notify() // harmless after Close
}

func TestRunStopsWithItsContext(t *testing.T) {
	d, err := New(newFakeOutbox(), []Endpoint{hotlineEndpoint("a", "http://127.0.0.1:1/")}, testOptions(nil))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	noWorkers(t)
}

func TestNewChecksEndpointsAndReadsSecrets(t *testing.T) {
	_, err := New(newFakeOutbox(), []Endpoint{{Name: "a", URL: "http://x/"}}, Options{})
	require.ErrorContains(t, err, "webhooks[0].secret")
	_, err = New(nil, nil, Options{})
	require.Error(t, err)

	files := map[string]string{"/s/long": testSecret + "\n", "/s/short": "tiny\n"}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, io.ErrUnexpectedEOF
	}
	d, err := New(newFakeOutbox(), []Endpoint{{Name: "a", URL: "http://x/", SecretFile: "/s/long"}}, Options{ReadFile: read})
	require.NoError(t, err)
	require.Equal(t, testSecret, d.workers[0].ep.Secret, "trailing newline trimmed")
	_, err = New(newFakeOutbox(), []Endpoint{{Name: "a", URL: "http://x/", SecretFile: "/s/short"}}, Options{ReadFile: read})
	require.ErrorContains(t, err, "webhooks[0].secret_file: /s/short holds 4 bytes")
	_, err = New(newFakeOutbox(), []Endpoint{{Name: "a", URL: "http://x/", SecretFile: "/s/none"}}, Options{ReadFile: read})
	require.ErrorContains(t, err, "webhooks[0].secret_file")
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	d, err := New(newFakeOutbox(), []Endpoint{hotlineEndpoint("a", "http://x/")}, Options{})
	require.NoError(t, err)
	w := d.workers[0]
	for n, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		got := w.backoff(n)
		require.True(t, got >= want/2 && got <= want, "attempt %d: %s not in [%s, %s]", n, got, want/2, want)
	}
	for _, n := range []int{9, 20, 1000} {
		got := w.backoff(n)
		require.True(t, got >= DefaultBackoffMax/2 && got <= DefaultBackoffMax, "attempt %d: %s", n, got)
	}
}

// One hotline-format request, exactly: POST, JSON body, the three headers.
func TestHotlineRequest(t *testing.T) {
	ob := newFakeOutbox()
	msg := ob.add(t, store.TopicTicketCreated, "T-000042", store.Ticket{Number: 42, Subject: "printer", Notes: []store.TicketNote{}, Calls: []store.TicketCall{}})
	type request struct {
		method string
		header http.Header
		body   string
	}
	got := make(chan request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- request{r.Method, r.Header.Clone(), string(mustRead(t, r))}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	signedAt := time.Unix(1700000000, 0)
	opt := testOptions(nil)
	opt.Now = func() time.Time { return signedAt }
	d, err := New(ob, []Endpoint{hotlineEndpoint("crm", srv.URL)}, opt)
	require.NoError(t, err)
	d.Start(t.Context())
	defer d.Close()

	var r request
	select {
	case r = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no request")
	}
	require.Equal(t, http.MethodPost, r.method)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.Equal(t, msg.ID, r.header.Get("Hotline-Event-Id"))
	require.Equal(t, "ticket.created", r.header.Get("Hotline-Event"))
	at, _ := msg.At.UTC().MarshalText()
	require.Equal(t, `{"id":"`+msg.ID+`","topic":"ticket.created","at":"`+string(at)+`","key":"T-000042","data":`+string(msg.Payload)+`}`, r.body)
	require.Equal(t, Sign(testSecret, signedAt, []byte(r.body)), r.header.Get("Hotline-Signature"))
	require.NoError(t, Verify(testSecret, r.header, []byte(r.body), signedAt, 0))
	require.Eventually(t, func() bool { return ob.pending("crm") == 0 }, 5*time.Second, 5*time.Millisecond, "204 counts as delivered")
}
