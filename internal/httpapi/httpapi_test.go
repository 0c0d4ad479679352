package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// fakeCalls is a pure in-memory CallReader for the handler tests; the real
// stores are tested by the store contract suite and the end-to-end tests.
type fakeCalls struct {
	calls []store.Call
	err   error
}

func (f *fakeCalls) ListCalls(_ context.Context, p store.Page) ([]store.Call, string, error) {
	if f.err != nil {
		return nil, "", f.err
	}
	if p.Cursor == "bad" {
		return nil, "", store.ErrBadCursor
	}
	if p.Limit < len(f.calls) {
		return f.calls[:p.Limit], "next-page", nil
	}
	return f.calls, "", nil
}

func (f *fakeCalls) GetCall(_ context.Context, id string) (store.Call, []store.Event, error) {
	for _, c := range f.calls {
		if c.ID == id {
			return c, []store.Event{{CallID: id, Seq: 1, At: c.ArrivedAt, Kind: "arrived"}}, nil
		}
	}
	return store.Call{}, nil, store.ErrNotFound
}

func get(t *testing.T, h http.Handler, url string, out any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	if out != nil {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), out), rec.Body.String())
	}
	return rec.Code
}

func TestCalls(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	f := &fakeCalls{calls: []store.Call{
		{ID: "b", ArrivedAt: at.Add(time.Minute), Outcome: "queued", Queue: "support", Vars: map[string]string{"serial": "123"}},
		{ID: "a", ArrivedAt: at},
	}}
	api := New(Options{Calls: f})

	var list struct {
		Calls []CallJSON `json:"calls"`
		Next  string     `json:"next"`
	}
	require.Equal(t, 200, get(t, api, "/api/v1/calls?limit=1", &list))
	require.Len(t, list.Calls, 1)
	require.Equal(t, "b", list.Calls[0].ID)
	require.Equal(t, "123", list.Calls[0].Vars["serial"])
	require.Equal(t, "next-page", list.Next)

	var one struct {
		Call   CallJSON    `json:"call"`
		Events []EventJSON `json:"events"`
	}
	require.Equal(t, 200, get(t, api, "/api/v1/calls/a", &one))
	require.Equal(t, "a", one.Call.ID)
	require.Equal(t, []string{}, one.Call.IVRPath, "empty lists are [] not null")
	require.Equal(t, "arrived", one.Events[0].Kind)

	var e struct{ Error string }
	require.Equal(t, 404, get(t, api, "/api/v1/calls/zzz", &e))
	require.Equal(t, "no call with this id", e.Error)
	require.Equal(t, 400, get(t, api, "/api/v1/calls?limit=0", &e))
	require.Contains(t, e.Error, "limit must be")
	require.Equal(t, 400, get(t, api, "/api/v1/calls?cursor=bad", &e))

	f.err = errors.New("connection refused")
	require.Equal(t, 503, get(t, api, "/api/v1/calls", &e))
	require.NotContains(t, e.Error, "connection refused", "internal errors stay in the log")
}

func TestHealth(t *testing.T) {
	var ready error
	api := New(Options{Calls: &fakeCalls{}, Ready: func(context.Context) error { return ready }})
	require.Equal(t, 200, get(t, api, "/healthz", nil))
	require.Equal(t, 200, get(t, api, "/readyz", nil))
	ready = errors.New("store: down")
	var body map[string]string
	require.Equal(t, 503, get(t, api, "/readyz", &body))
	require.Equal(t, "store: down", body["error"])
}
