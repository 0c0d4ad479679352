package agentclient_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
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

// TestMuteAndPauseRecording: the helpers send the protocol's mute and
// pause_recording messages, and Mute silences the microphone.
func TestMuteAndPauseRecording(t *testing.T) {
	got := make(chan softphone.Message, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			_, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			m, err := softphone.Decode(data)
			if err != nil {
				t.Errorf("the client sent a message the decoder refuses: %s: %v", data, err)
				return
			}
			got <- m
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/agent/ws"
	c, err := agentclient.Dial(t.Context(), url, agentclient.Options{PingInterval: -1})
	require.NoError(t, err)
	defer func() { _ = c.Close() }()

	next := func() softphone.Message {
		select {
		case m := <-got:
			return m
		case <-time.After(5 * time.Second):
			t.Fatal("the server got no message")
			return nil
		}
	}
	require.False(t, c.Muted())
	require.NoError(t, c.Mute(t.Context(), "c1", true))
	require.Equal(t, softphone.Mute{CallID: "c1", On: true}, next())
	require.True(t, c.Muted())
	require.NoError(t, c.Mute(t.Context(), "c1", false))
	require.Equal(t, softphone.Mute{CallID: "c1", On: false}, next())
	require.False(t, c.Muted())
	require.NoError(t, c.PauseRecording(t.Context(), "c1", true))
	require.Equal(t, softphone.PauseRecording{CallID: "c1", On: true}, next())
	require.NoError(t, c.PauseRecording(t.Context(), "c1", false))
	require.Equal(t, softphone.PauseRecording{CallID: "c1", On: false}, next())
}
