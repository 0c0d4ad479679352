package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/baresiptest"
)

// A node with sip.tls_listen and a trunk requiring SRTP: baresip
// (srtp-mand) calls over TLS, goes through the IVR with RFC 4733 digits
// inside SRTP, and the call is recorded like any other; SIGHUP renews the
// SIP certificate with the same loader as HTTPS.
func TestSIPOverTLSWithSRTP(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	certPath, keyPath, err := writeSelfSigned(dir, []string{"sip.test"}, false, time.Now())
	require.NoError(t, err)
	n := startTestNode(t, nodeOptions{sip: fmt.Sprintf(
		"  tls_listen: 127.0.0.1:0\n  tls_cert: %s\n  tls_key: %s\n  trunks: [{name: secure, flow: demo, srtp: required, auth: {username: carrier1, password: s3cret, algorithms: [MD5]}}]\n",
		certPath, keyPath)})
	tlsAddr := n.sip.TLSAddr().String()
	require.Equal(t, "sip.test", servedCert(t, tlsAddr).Subject.CommonName)
	require.Contains(t, n.logs.String(), "sip tls certificate")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := baresiptest.Call(ctx, baresiptest.Options{
		Target:   "sip:support@" + tlsAddr + ";transport=tls",
		MediaEnc: "srtp-mand",
		AuthUser: "carrier1",
		AuthPass: "s3cret",
		Digits:   "12",
		DigitGap: 700 * time.Millisecond,
		Hold:     1500 * time.Millisecond,
	})
	require.NoError(t, err, res.Log)
	require.True(t, res.Established, res.Log)
	c := n.waitEnded(res.CallID).Call
	require.Equal(t, "billing", c.Queue)
	require.Equal(t, "12", c.Digits, "RFC 4733 digits arrive through SRTP")
	require.Equal(t, "caller", c.HangupSide)

	// Plain RTP to the same trunk over UDP is refused before a call exists.
	res, err = baresiptest.Call(ctx, baresiptest.Options{Target: n.uri("support"), AuthUser: "carrier1", AuthPass: "s3cret"})
	require.NoError(t, err, res.Log)
	require.False(t, res.Established)
	require.Contains(t, res.Closed, "488")

	// A wrong password over TLS is refused, logged and counted.
	res, err = baresiptest.Call(ctx, baresiptest.Options{
		Target: "sip:support@" + tlsAddr + ";transport=tls", MediaEnc: "srtp-mand",
		AuthUser: "carrier1", AuthPass: "wrong",
	})
	require.NoError(t, err, res.Log)
	require.False(t, res.Established, res.Log)
	require.Contains(t, res.Closed, "403", res.Log)
	require.Contains(t, n.logs.String(), "digest authentication failed")

	_, _, err = writeSelfSigned(dir, []string{"renewed.test"}, true, time.Now())
	require.NoError(t, err)
	n.reload(n.cfg, testAssets(t, ""))
	require.Equal(t, "renewed.test", servedCert(t, tlsAddr).Subject.CommonName)
	require.Contains(t, n.logs.String(), "sip tls certificate reloaded")
}
