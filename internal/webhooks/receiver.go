package webhooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Defaults of a Receiver.
const (
	DefaultMaxBody = 1 << 20 // bytes
	// DefaultRemember is how many event ids a Receiver keeps for
	// de-duplication; the oldest are forgotten first.
	DefaultRemember = 100_000
)

// Received is what a Receiver reports for one request.
type Received struct {
	Event     Event // as parsed from the body; zero fields when it did not parse
	Verified  bool  // the signature verified and the body is an Event
	Duplicate bool  // verified, and an event with this id was received before
	Err       error // why the request was refused; nil when Verified
	Status    int   // the HTTP status answered
}

// Receiver is an http.Handler that accepts hotline-format deliveries: it
// verifies the signature, parses the Event, de-duplicates by id in memory
// and calls OnEvent. It answers 2xx only for a verified delivery (200 "ok",
// or 200 "duplicate" for a repeat), 401 for a bad signature, 400 for a body
// that is not an Event, 405 for anything but POST. Set the fields before
// serving; they must not change afterwards.
type Receiver struct {
	Secret string
	// Window is the replay window for Verify (DefaultWindow when 0).
	Window time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// OnEvent, when set, is called once per request, from the request's
	// goroutine (so possibly concurrently), before the response is written.
	OnEvent func(Received)
	// MaxBody bounds a body (DefaultMaxBody when 0).
	MaxBody int64
	// Remember bounds the ids kept for de-duplication (DefaultRemember when 0).
	Remember int

	mu    sync.Mutex
	seen  map[string]struct{}
	order []string // seen ids, oldest first
}

// NewReceiver returns a Receiver for secret that reports to onEvent.
func NewReceiver(secret string, onEvent func(Received)) *Receiver {
	return &Receiver{Secret: secret, OnEvent: onEvent}
}

// ServeHTTP handles one delivery.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rec := r.receive(req)
	if r.OnEvent != nil {
		r.OnEvent(rec)
	}
	switch {
	case rec.Status == http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, rec.Err.Error(), rec.Status)
	case rec.Err != nil:
		http.Error(w, rec.Err.Error(), rec.Status)
	case rec.Duplicate:
		w.WriteHeader(rec.Status)
		_, _ = io.WriteString(w, "duplicate\n")
	default:
		w.WriteHeader(rec.Status)
		_, _ = io.WriteString(w, "ok\n")
	}
}

func (r *Receiver) receive(req *http.Request) Received {
	if req.Method != http.MethodPost {
		return Received{Status: http.StatusMethodNotAllowed, Err: fmt.Errorf("webhooks: method %s; deliveries are POSTed", req.Method)}
	}
	limit := r.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, req.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Received{Status: http.StatusRequestEntityTooLarge, Err: fmt.Errorf("webhooks: body over %d bytes", limit)}
		}
		return Received{Status: http.StatusBadRequest, Err: fmt.Errorf("webhooks: reading the body: %w", err)}
	}
	var rec Received
	// Parse first so a refused request still says what it claimed to be.
	parseErr := json.Unmarshal(body, &rec.Event)
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	if err := Verify(r.Secret, req.Header, body, now(), r.Window); err != nil {
		rec.Status, rec.Err = http.StatusUnauthorized, err
		return rec
	}
	switch {
	case parseErr != nil:
		rec.Status, rec.Err = http.StatusBadRequest, fmt.Errorf("webhooks: body is not an event: %w", parseErr)
		return rec
	case rec.Event.ID == "":
		rec.Status, rec.Err = http.StatusBadRequest, errors.New("webhooks: event has no id")
		return rec
	case req.Header.Get(HeaderEventID) != rec.Event.ID:
		rec.Status, rec.Err = http.StatusBadRequest, fmt.Errorf("webhooks: %s %q is not the body's id %q",
			HeaderEventID, req.Header.Get(HeaderEventID), rec.Event.ID)
		return rec
	}
	rec.Verified, rec.Status = true, http.StatusOK
	rec.Duplicate = !r.remember(rec.Event.ID)
	return rec
}

// remember records id and reports whether it is new.
func (r *Receiver) remember(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.seen[id]; ok {
		return false
	}
	if r.seen == nil {
		r.seen = map[string]struct{}{}
	}
	limit := r.Remember
	if limit <= 0 {
		limit = DefaultRemember
	}
	for len(r.order) >= limit {
		delete(r.seen, r.order[0])
		r.order = r.order[1:]
	}
	r.seen[id] = struct{}{}
	r.order = append(r.order, id)
	return true
}
