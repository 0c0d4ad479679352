package webhooks

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func post(t *testing.T, h http.Handler, body string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestReceiver(t *testing.T) {
	now := time.Unix(1700000000, 0)
	var got received
	r := NewReceiver(testSecret, got.add)
	r.Now = func() time.Time { return now }

	body := `{"id":"call:c1:1","topic":"call.ringing","at":"2026-03-04T10:20:30Z","key":"c1","data":{"call_id":"c1"}}`
	hdr := map[string]string{HeaderEventID: "call:c1:1", HeaderEvent: "call.ringing", HeaderSignature: Sign(testSecret, now, []byte(body))}

	rec := post(t, r, body, hdr)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "ok\n", rec.Body.String())
	rec = post(t, r, body, hdr)
	require.Equal(t, http.StatusOK, rec.Code, "a repeat is acknowledged too")
	require.Equal(t, "duplicate\n", rec.Body.String())

	tampered := strings.Replace(body, "c1\"}}", "c2\"}}", 1)
	rec = post(t, r, tampered, hdr)
	require.Equal(t, http.StatusUnauthorized, rec.Code)

	stale := map[string]string{HeaderEventID: "x", HeaderSignature: Sign(testSecret, now.Add(-time.Hour), []byte(body))}
	rec = post(t, r, body, stale)
	require.Equal(t, http.StatusUnauthorized, rec.Code)

	other := `{"id":"call:c1:2","topic":"call.ended"}`
	rec = post(t, r, other, map[string]string{HeaderEventID: "call:c1:1", HeaderSignature: Sign(testSecret, now, []byte(other))})
	require.Equal(t, http.StatusBadRequest, rec.Code, "the id header must match the body")

	notJSON := `hello`
	rec = post(t, r, notJSON, map[string]string{HeaderSignature: Sign(testSecret, now, []byte(notJSON))})
	require.Equal(t, http.StatusBadRequest, rec.Code)

	get := httptest.NewRecorder()
	r.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusMethodNotAllowed, get.Code)

	all := got.list()
	require.Len(t, all, 7)
	require.True(t, all[0].Verified)
	require.False(t, all[0].Duplicate)
	require.Equal(t, "c1", all[0].Event.Key)
	require.True(t, all[1].Duplicate)
	require.ErrorIs(t, all[2].Err, ErrSignatureMismatch)
	require.Equal(t, "call:c1:1", all[2].Event.ID, "a refused event still says what it claimed to be")
	require.ErrorIs(t, all[3].Err, ErrOutsideWindow)
	require.ErrorContains(t, all[4].Err, "is not the body's id")
	require.ErrorContains(t, all[5].Err, "not an event")
	require.Equal(t, http.StatusMethodNotAllowed, all[6].Status)
	require.Equal(t, []string{"call:c1:1"}, got.firstIDs())
}

func TestReceiverForgetsTheOldest(t *testing.T) {
	r := &Receiver{Remember: 2}
	require.True(t, r.remember("a"))
	require.True(t, r.remember("b"))
	require.False(t, r.remember("a"))
	require.True(t, r.remember("c"))
	require.True(t, r.remember("a"), "a was forgotten to make room for c")
}

func TestReceiverBodyLimit(t *testing.T) {
	r := &Receiver{Secret: testSecret, MaxBody: 10}
	rec := post(t, r, strings.Repeat("x", 11), nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
}
