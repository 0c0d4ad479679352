package main

// HTTPS end to end (issue 13): `hotline cert` writes a self-signed pair, a
// node serves its pages and API with it, a Go client and Chromium trusting
// the pair sign in (the cookie is Secure, the agent page is a secure
// context with the microphone, its Content Security Policy blocks nothing
// it needs), and SIGHUP's reload serves a new certificate to new
// connections.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/web/browsertest"
)

func TestCertCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	var out, errs bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"cert", "--host", "hotline.lan, 192.168.1.20", "--out", dir}, &out, &errs), errs.String())
	certPath, keyPath := filepath.Join(dir, certFileName), filepath.Join(dir, keyFileName)
	require.Contains(t, out.String(), "tls_cert: "+certPath)
	require.Contains(t, out.String(), "tls_key: "+keyPath)

	leaf := readCert(t, certPath)
	require.Equal(t, "hotline.lan", leaf.Subject.CommonName)
	require.Equal(t, []string{"hotline.lan", "localhost"}, leaf.DNSNames)
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	require.Equal(t, []string{"192.168.1.20", "127.0.0.1", "::1"}, ips)
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok, "an ECDSA key")
	require.Equal(t, elliptic.P256(), pub.Curve)
	require.InDelta(t, float64(365*24*time.Hour), float64(time.Until(leaf.NotAfter)), float64(time.Hour))
	require.False(t, leaf.IsCA, "a server certificate, not a CA")
	require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)
	for _, name := range []string{"hotline.lan", "localhost", "127.0.0.1", "192.168.1.20"} {
		require.NoError(t, leaf.VerifyHostname(name))
	}
	fi, err := os.Stat(keyPath)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the key is its owner's only")
	_, err = tls.LoadX509KeyPair(certPath, keyPath)
	require.NoError(t, err, "the pair matches")

	// An existing pair is kept unless --force.
	err = run(t.Context(), []string{"cert", "--host", "other", "--out", dir}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "exists; pass --force")
	require.Equal(t, "hotline.lan", readCert(t, certPath).Subject.CommonName)
	require.NoError(t, run(t.Context(), []string{"cert", "--host", "other", "--out", dir, "--force"}, io.Discard, io.Discard))
	require.Equal(t, "other", readCert(t, certPath).Subject.CommonName)

	// No --host: the loopback names only.
	_, _, err = writeSelfSigned(filepath.Join(t.TempDir(), "lo"), nil, false, time.Now())
	require.NoError(t, err)
	err = run(t.Context(), []string{"cert", "--host", "http://x", "--out", t.TempDir()}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "neither a host name nor an IP address")
}

func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath, err := writeSelfSigned(dir, []string{"hotline.test"}, false, time.Now())
	require.NoError(t, err)
	n := startTestNode(t, nodeOptions{extra: agentQueues, http: fmt.Sprintf("tls_cert: %q, tls_key: %q", certPath, keyPath)})
	password := n.addUser("anna", store.RoleAgent)
	require.Equal(t, "https", n.HTTPScheme())
	base := "https://" + n.HTTPAddr()
	leaf := readCert(t, certPath)
	client := trustingClient(t, leaf)

	t.Run("sign in over HTTPS: Secure cookie, HSTS, security headers", func(t *testing.T) {
		body, _ := json.Marshal(map[string]string{"username": "anna", "password": password})
		res, err := client.Post(base+"/api/v1/login", "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		_ = res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Len(t, res.Cookies(), 1)
		c := res.Cookies()[0]
		require.Equal(t, httpapi.SessionCookie, c.Name)
		require.True(t, c.Secure, "the session cookie over HTTPS is Secure")
		require.True(t, c.HttpOnly)
		require.Equal(t, httpapi.HSTS, res.Header.Get("Strict-Transport-Security"))

		for _, path := range []string{"/agent/", "/healthz", "/api/v1/me", "/metrics"} {
			res, err := client.Get(base + path)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			require.Equal(t, httpapi.ContentSecurityPolicy, res.Header.Get("Content-Security-Policy"), path)
			require.Equal(t, "DENY", res.Header.Get("X-Frame-Options"), path)
			require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), path)
			require.NotEmpty(t, res.Header.Get("Referrer-Policy"), path)
			require.Equal(t, httpapi.HSTS, res.Header.Get("Strict-Transport-Security"), path)
		}

		// A client that does not trust the pair is refused.
		_, err = (&http.Client{Timeout: 5 * time.Second}).Get(base + "/healthz")
		var unknown x509.UnknownAuthorityError
		require.ErrorAs(t, err, &unknown)
	})

	t.Run("Chromium: the agent page over HTTPS gets the microphone and takes a call", func(t *testing.T) {
		br := browsertest.Start(t, browsertest.Options{MicToneHz: micHz, TrustCertificates: []*x509.Certificate{leaf}})
		agentTakesCallOverHTTPS(t, br.NewPage(t), n, base, password)
	})

	t.Run("SIGHUP reload serves a new certificate to new connections", func(t *testing.T) {
		old := servedCert(t, n.HTTPAddr())
		require.Equal(t, leaf.SerialNumber, old.SerialNumber)
		kept, err := client.Get(base + "/healthz") // a connection from before the reload
		require.NoError(t, err)
		_ = kept.Body.Close()
		require.Equal(t, old.SerialNumber, kept.TLS.PeerCertificates[0].SerialNumber)

		_, _, err = writeSelfSigned(dir, []string{"renewed.test"}, true, time.Now())
		require.NoError(t, err)
		n.reload(n.cfg, testAssets(t, ""))
		renewed := servedCert(t, n.HTTPAddr())
		require.Equal(t, "renewed.test", renewed.Subject.CommonName)
		require.NotEqual(t, leaf.SerialNumber, renewed.SerialNumber)
		require.Contains(t, n.logs.String(), "https certificate reloaded")
		again, err := client.Get(base + "/healthz")
		require.NoError(t, err)
		_ = again.Body.Close()
		require.Equal(t, 2, again.ProtoMajor)
		require.Equal(t, old.SerialNumber, again.TLS.PeerCertificates[0].SerialNumber,
			"an open connection keeps the certificate it was made with")

		// A broken pair keeps the certificate in use.
		require.NoError(t, os.WriteFile(keyPath, []byte("garbage"), 0o600))
		n.reload(n.cfg, testAssets(t, ""))
		require.Equal(t, renewed.SerialNumber, servedCert(t, n.HTTPAddr()).SerialNumber)
		require.Contains(t, n.logs.String(), "keeping the running https certificate")
		require.Contains(t, n.logs.String(), "flows and prompts reloaded", "the flows reload all the same")
	})
}

// TestAgentOnAnotherMachine is an agent whose browser reaches the hotline
// by a name, not by a loopback address, as from a second machine: the
// browser maps hotline.test to 127.0.0.2, where the node listens for HTTPS
// and for the softphone's UDP. Over plain HTTP such a page gets no
// microphone; over HTTPS with the self-signed pair the agent signs in and
// talks both ways.
func TestAgentOnAnotherMachine(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath, err := writeSelfSigned(dir, []string{"hotline.test"}, false, time.Now())
	require.NoError(t, err)
	n := startTestNode(t, nodeOptions{
		httpAddr: "127.0.0.2:0",
		http:     fmt.Sprintf("tls_cert: %q, tls_key: %q", certPath, keyPath),
		extra:    strings.Replace(agentQueues, "udp_addr: 127.0.0.1:0", "udp_addr: 127.0.0.2:0", 1),
	})
	password := n.addUser("anna", store.RoleAgent)
	_, port, err := net.SplitHostPort(n.HTTPAddr())
	require.NoError(t, err)

	plain := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "<!doctype html><title>plain</title>")
	})}
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	require.NoError(t, err)
	served := make(chan struct{})
	go func() { defer close(served); _ = plain.Serve(ln) }()
	t.Cleanup(func() { _ = plain.Close(); <-served })
	_, plainPort, err := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, err)

	br := browsertest.Start(t, browsertest.Options{
		MicToneHz:         micHz,
		TrustCertificates: []*x509.Certificate{readCert(t, certPath)},
		Hosts:             map[string]string{"hotline.test": "127.0.0.2", "plain.test": "127.0.0.3"},
	})
	p := br.NewPage(t)
	p.Open("http://plain.test:" + plainPort + "/")
	p.WaitTrue(`document.title === 'plain'`)
	require.False(t, browsertest.Eval[bool](p, `window.isSecureContext`),
		"a page from another machine over plain HTTP is not a secure context")
	require.False(t, browsertest.Eval[bool](p, `!!navigator.mediaDevices`), "and gets no microphone")

	agentTakesCallOverHTTPS(t, p, n, "https://hotline.test:"+port, password)
}

// agentTakesCallOverHTTPS signs anna in on the agent page at base (an
// https:// origin), checks that the page is a secure context with the
// microphone, goes ready, takes a support call and talks both ways, and
// hangs up.
func agentTakesCallOverHTTPS(t *testing.T, p *browsertest.Page, n *testNode, base, password string) {
	t.Helper()
	signInPage(t, p, base+"/agent/?audio=raw", "anna", password)
	p.WaitVisible("#ready")
	require.Equal(t, "https:", browsertest.Eval[string](p, `location.protocol`))
	require.True(t, browsertest.Eval[bool](p, `window.isSecureContext`))
	require.Equal(t, 1, browsertest.Eval[int](p,
		`navigator.mediaDevices.getUserMedia({audio: true}).then((s) => { const n = s.getAudioTracks().length; s.getTracks().forEach((t) => t.stop()); return n; })`),
		"getUserMedia works: the page is a secure context")
	p.WaitText("#conn", "Connected") // the agent WebSocket over wss:
	p.Click("#ready")
	waitPageState(t, p, softphone.StateReady, "Ready")
	p.WaitTrue(`hotlineAgent.rtc() === 'connected'`)

	call := dialSupport(t, n, testSerial)
	p.WaitVisible("#ring")
	p.Click("#accept")
	waitPageState(t, p, softphone.StateOnCall, "On a call")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	said := make(chan error, 1)
	go func() { said <- call.Say(ctx, media.Tone([]float64{callerHz}, 3*time.Second, 0.3)) }()
	p.WaitRemoteLevel(callerHz, minLevel)
	require.NoError(t, call.WaitTone(ctx, micHz, 200*time.Millisecond), "the browser's microphone never reached the caller")
	<-said
	p.Click("#hangup")
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("the caller never got BYE")
	}
	waitPageState(t, p, softphone.StateReady, "Ready")

	noPageErrors(t, p)
	for _, line := range p.Console() {
		require.NotContains(t, line, "Content Security Policy", "the page broke its own policy")
	}
}

// readCert parses the first certificate of a PEM file.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block, "%s holds no PEM block", path)
	require.Equal(t, "CERTIFICATE", block.Type)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c
}

// trustingClient is an HTTP client that trusts leaf and no other certificate.
func trustingClient(t *testing.T, leaf *x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// servedCert is the certificate a new TLS handshake with addr gets.
func servedCert(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	return c.ConnectionState().PeerCertificates[0]
}
