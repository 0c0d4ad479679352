package agentclient_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone/agentclient"
)

// TestDialReportsHTTPStatus: a refused upgrade (no session, wrong Origin)
// shows its HTTP status, so a test can assert on 401/403.
func TestDialReportsHTTPStatus(t *testing.T) {
	var gotCookie string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotCookie = r.Header.Get("Cookie")
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/agent/ws"
	_, err := agentclient.Dial(t.Context(), url, agentclient.Options{Header: http.Header{"Cookie": {"hotline_session=abc"}}})
	require.ErrorContains(t, err, "HTTP 403")
	require.Equal(t, "hotline_session=abc", gotCookie)
}
