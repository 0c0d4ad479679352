// Package web serves the browser pages of hotline: the agent softphone page,
// the call recordings page, the supervisor page and the sign-in page. They are plain HTML, CSS and JavaScript, embedded in
// the binary with go:embed; there is no build step, no framework and nothing
// is loaded from another origin. The one third-party file is uPlot (MIT),
// the supervisor page's charts, vendored under static/vendor/uplot by
// `make vendor-uplot`.
//
// The pages talk to the API that internal/httpapi mounts next to this handler
// on the same origin:
//
//   - POST /api/v1/login {username,password}: 200 and a session cookie, 401
//     {"error"} for a wrong password, 429 with Retry-After when throttled;
//   - POST /api/v1/logout;
//   - GET /api/v1/me: {id,name,role,csrf}; 401 sends the page to /login;
//   - state-changing requests carry the header X-CSRF-Token with the csrf
//     value from /api/v1/me;
//   - GET /api/v1/agent/ws: the agent WebSocket (agent protocol v1, see
//     internal/softphone);
//   - GET /api/v1/recordings?agent=&queue=&from=&to=&call=&limit=&cursor=
//     {recordings, next}: the recordings (an agent gets only theirs), each
//     with an audio_url the pages' <audio> elements play (Range requests,
//     the session cookie); PUT /api/v1/recordings/{id}/legal-hold {hold}
//     for supervisors;
//   - the tickets API (the agent page's ticket panel): GET
//     /api/v1/tickets?phone=&serial=&limit= {tickets, next}, GET
//     /api/v1/tickets/{number}, POST /api/v1/tickets {subject, note, status,
//     caller_number, queue, serial, product, call_id} (201), POST
//     /api/v1/tickets/{number}/calls {call_id}; each ticket has id
//     ("T-000123"), status, subject, missed, notes [{text}] and calls
//     [{call_id}]; a refusal is {"error"}.
//   - the supervisor page's: GET /api/v1/supervisor/ws (the wallboard, see
//     package wallboard: a snapshot at once, then each change; the page
//     sends nothing), POST /api/v1/agents/{id}/not-ready {reason} and
//     POST /api/v1/agents/{id}/sign-out, and GET
//     /api/v1/stats?from=&to=&bucket=&queue=&tz=&format=json|csv (the KPI
//     report of package kpi).
//
// Query flags of the agent page: audio=raw asks getUserMedia for the
// microphone without echo cancellation, noise suppression or automatic gain
// (tests with a fake tone need that; people want the processing on), and
// lang=en|ru picks the language. The recordings page takes its filters from
// the query too (agent, queue, from, to as RFC 3339, call, limit), so a
// link can open it filtered.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFiles embed.FS

// Routes of the pages. The HTTP layer mounts Handler at "/" (or on these
// paths); everything else it does not know is a 404 here.
const (
	AgentPath      = "/agent/"
	RecordingsPath = "/recordings/"
	SupervisorPath = "/supervisor/"
	LoginPath      = "/login"
	StaticPath     = "/static/"
)

// contentType returns the type of an embedded file by its extension, so
// the answer does not depend on the host's MIME tables.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".ico":
		return "image/x-icon"
	}
	return "application/octet-stream"
}

// contentSecurityPolicy allows only this origin: scripts, styles, the
// WebSocket and media all come from here.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; media-src 'self' blob: mediastream:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// asset is one embedded file, read once.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// handler serves the embedded pages.
type handler struct {
	assets  map[string]asset // by file name under static/
	modTime time.Time
}

// Handler returns the handler of the pages: /agent/ (the softphone),
// /recordings/ (the call recordings), /supervisor/ (the wallboard, agent
// controls and reports), /login (the sign-in page) and /static/* (their
// scripts and styles). /agent, /recordings and /supervisor without the
// slash redirect to the page.
//
// Every answer has a validator (ETag) and "Cache-Control: no-cache", so a
// browser revalidates on each load and gets 304 when nothing changed: a new
// binary never runs old JavaScript against a new protocol.
func Handler() http.Handler {
	h := &handler{assets: map[string]asset{}, modTime: time.Now().UTC().Truncate(time.Second)}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		h.assets[strings.TrimPrefix(p, "static/")] = asset{
			body:        body,
			contentType: contentType(p),
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		// The files are compiled in, so this cannot happen in a built binary;
		// answer 500 rather than crash if it ever does.
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, fmt.Sprintf("web: embedded files: %v", err), http.StatusInternalServerError)
		})
	}
	return h
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p+"/" == AgentPath || p+"/" == RecordingsPath || p+"/" == SupervisorPath:
		target := p + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	case p == AgentPath:
		h.serve(w, r, "agent.html")
	case p == RecordingsPath:
		h.serve(w, r, "recordings.html")
	case p == SupervisorPath:
		h.serve(w, r, "supervisor.html")
	case p == LoginPath || p == LoginPath+"/":
		h.serve(w, r, "login.html")
	case strings.HasPrefix(p, StaticPath):
		name := strings.TrimPrefix(p, StaticPath)
		if strings.HasSuffix(name, ".html") {
			// Pages have their own paths; their copies under /static are not served.
			http.NotFound(w, r)
			return
		}
		h.serve(w, r, name)
	default:
		http.NotFound(w, r)
	}
}

// serve writes one embedded file with its headers; a name that is not
// embedded is a 404.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	if strings.HasSuffix(name, ".html") {
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Permissions-Policy", "microphone=(self), camera=()")
	}
	http.ServeContent(w, r, name, h.modTime, bytes.NewReader(a.body))
}
