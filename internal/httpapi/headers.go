package httpapi

// The security headers every answer carries, pages, API and errors alike,
// and the optional token in front of /metrics.
//
//   - Content-Security-Policy (ContentSecurityPolicy): everything from this
//     origin only, no inline script or style, no eval, no framing. A page
//     loads its scripts and styles with <script src> and <link>; it sets
//     styles from JavaScript (element.style, classList), never with a style
//     attribute in its HTML or a <style> element.
//   - X-Frame-Options DENY (frame-ancestors for older browsers),
//     X-Content-Type-Options nosniff, Referrer-Policy same-origin.
//   - Strict-Transport-Security max-age=31536000 over TLS, or on plain HTTP
//     when ServerConfig.BehindTLSProxy says a proxy in front serves HTTPS
//     (a browser ignores it on plain HTTP, and on a certificate it does not
//     trust, so a self-signed LAN trial is not locked in).
//
// A handler may set its own values over these (a download its own
// Content-Type and nosniff); none removes them.

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
)

// ContentSecurityPolicy is the policy of every answer. media-src allows
// blob: and mediastream: for the softphone's audio elements; connect-src
// 'self' covers the agent WebSocket (ws: and wss: of this host).
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; media-src 'self' blob: mediastream:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// HSTS is the Strict-Transport-Security value: a year, this host only.
const HSTS = "max-age=31536000"

// MetricsPath is the Prometheus route MetricsToken guards.
const MetricsPath = "/metrics"

// behindTLSKey marks a request that came through the TLS-terminating proxy
// of ServerConfig.BehindTLSProxy.
type behindTLSKey struct{}

// secureRequest reports whether the browser reached r over HTTPS: TLS to
// this listener, or to the proxy in front (BehindTLSProxy). Cookies set on
// such an answer are Secure.
func secureRequest(r *http.Request) bool {
	behind, _ := r.Context().Value(behindTLSKey{}).(bool)
	return r.TLS != nil || behind
}

// secureHeaders sets the security headers on every answer of h and checks
// the metrics token.
func secureHeaders(cfg ServerConfig, h http.Handler) http.Handler {
	token := []byte(cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		if cfg.BehindTLSProxy {
			r = r.WithContext(context.WithValue(r.Context(), behindTLSKey{}, true))
		}
		if secureRequest(r) {
			hd.Set("Strict-Transport-Security", HSTS)
		}
		if len(token) > 0 && r.URL.Path == MetricsPath && !bearerIs(r, token) {
			hd.Set("WWW-Authenticate", `Bearer realm="metrics"`)
			writeError(w, http.StatusUnauthorized, "GET /metrics needs Authorization: Bearer <http.metrics_token>")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bearerIs reports whether r carries "Authorization: Bearer <token>",
// compared in constant time.
func bearerIs(r *http.Request, token []byte) bool {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(secret)), token) == 1
}
