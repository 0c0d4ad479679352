package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return string(b)
}

func TestHandlerServesPagesWithTypesAndCaching(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, ctype, contains string
	}{
		{"/agent/", "text/html; charset=utf-8", `id="remote-audio"`},
		{"/login", "text/html; charset=utf-8", `id="login-submit"`},
		{"/recordings/", "text/html; charset=utf-8", `id="rec-rows"`},
		{"/static/recordings.js", "text/javascript; charset=utf-8", "/api/v1/recordings"},
		{"/static/agent.js", "text/javascript; charset=utf-8", "webrtc_offer"},
		{"/static/login.js", "text/javascript; charset=utf-8", "/api/v1/login"},
		{"/static/i18n.js", "text/javascript; charset=utf-8", "ru: {"},
		{"/static/app.css", "text/css; charset=utf-8", ".ring"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := get(t, h, http.MethodGet, tc.path, nil)
			require.Equal(t, http.StatusOK, r.StatusCode)
			require.Equal(t, tc.ctype, r.Header.Get("Content-Type"))
			require.Equal(t, "no-cache", r.Header.Get("Cache-Control"))
			require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
			etag := r.Header.Get("ETag")
			require.NotEmpty(t, etag)
			require.Contains(t, body(t, r), tc.contains)
			if strings.HasSuffix(tc.ctype, "html; charset=utf-8") {
				require.Contains(t, r.Header.Get("Content-Security-Policy"), "default-src 'self'")
				require.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
			}

			// A browser revalidating an unchanged file gets 304 and no body.
			r = get(t, h, http.MethodGet, tc.path, map[string]string{"If-None-Match": etag})
			require.Equal(t, http.StatusNotModified, r.StatusCode)
			require.Empty(t, body(t, r))

			r = get(t, h, http.MethodHead, tc.path, nil)
			require.Equal(t, http.StatusOK, r.StatusCode)
		})
	}
}

func TestHandlerRefusesWhatItDoesNotServe(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/", "/static/", "/static/nope.js", "/static/agent.html", "/static/recordings.html",
		"/static/../web.go", "/agent/x", "/recordings/x", "/api/v1/me", "/api/v1/recordings"} {
		r := get(t, h, http.MethodGet, p, nil)
		require.Equal(t, http.StatusNotFound, r.StatusCode, p)
	}
	r := get(t, h, http.MethodGet, "/agent", nil)
	require.Equal(t, http.StatusMovedPermanently, r.StatusCode)
	require.Equal(t, "/agent/", r.Header.Get("Location"))

	r = get(t, h, http.MethodGet, "/agent?audio=raw", nil)
	require.Equal(t, "/agent/?audio=raw", r.Header.Get("Location"), "the redirect keeps the query")
	r = get(t, h, http.MethodGet, "/recordings?call=c1", nil)
	require.Equal(t, http.StatusMovedPermanently, r.StatusCode)
	require.Equal(t, "/recordings/?call=c1", r.Header.Get("Location"))

	r = get(t, h, http.MethodPost, "/agent/", nil)
	require.Equal(t, http.StatusMethodNotAllowed, r.StatusCode)
	require.Equal(t, "GET, HEAD", r.Header.Get("Allow"))
}

// The pages load nothing from another origin (no CDN) and every id the
// browser tests and the brief rely on exists.
func TestPagesAreSelfContained(t *testing.T) {
	h := Handler()
	agent := body(t, get(t, h, http.MethodGet, "/agent/", nil))
	login := body(t, get(t, h, http.MethodGet, "/login", nil))
	recs := body(t, get(t, h, http.MethodGet, "/recordings/", nil))
	for _, page := range []string{agent, login, recs} {
		require.NotContains(t, page, "http://")
		require.NotContains(t, page, "https://")
		require.NotContains(t, page, "//cdn")
	}
	for _, id := range []string{"ready", "not-ready", "reason", "state", "state-timer", "ring", "ring-from",
		"ring-serial", "ring-language", "ring-ivr", "accept", "reject", "call", "mute", "hold", "hangup",
		"keypad", "transfer-kind", "transfer-target", "transfer", "wrapup", "wrapup-note",
		"wrapup-disposition", "wrapup-done", "error", "notice", "lang", "logout", "remote-audio",
		"nav-recordings", "rec-pause", "rec-status", "recent", "recent-list", "recent-empty", "recent-all"} {
		require.Contains(t, agent, `id="`+id+`"`, id)
	}
	for _, id := range []string{"nav-agent", "user-name", "lang", "logout", "rec-error", "rec-filters", "f-agent-box",
		"f-agent", "f-queue", "f-from", "f-to", "f-call", "f-apply", "f-clear", "rec-table", "rec-rows", "col-hold",
		"rec-empty", "rec-prev", "rec-next", "rec-page"} {
		require.Contains(t, recs, `id="`+id+`"`, id)
	}
	for _, id := range []string{"login-user", "login-pass", "login-submit", "login-error", "lang"} {
		require.Contains(t, login, `id="`+id+`"`, id)
	}
}
