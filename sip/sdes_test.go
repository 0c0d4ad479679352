package sip

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/sip/siptest"
	"github.com/icholy/digest"
	"github.com/stretchr/testify/require"
)

// testKey is a valid inline key: 30 bytes, base64.
var testKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdefghijklmnopqrs!"))

func TestParseCrypto(t *testing.T) {
	for _, tc := range []struct {
		in          string
		suite       media.SRTPSuite
		tag         int
		unsupported bool
		err         string
	}{
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey, suite: media.SRTPAES128SHA1_80, tag: 1},
		{in: "7  AES_CM_128_HMAC_SHA1_32\tinline:" + testKey + "|2^20", suite: media.SRTPAES128SHA1_32, tag: 7},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + strings.TrimRight(testKey, "="), suite: media.SRTPAES128SHA1_80, tag: 1},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|1048576", suite: media.SRTPAES128SHA1_80, tag: 1},
		{in: "2 AES_256_CM_HMAC_SHA1_80 inline:" + testKey, unsupported: true},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^20|1:4", unsupported: true},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|1:4", unsupported: true},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + ";inline:" + testKey, unsupported: true},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + " UNENCRYPTED_SRTP", unsupported: true},
		{in: "", err: "needs a tag"},
		{in: "1 AES_CM_128_HMAC_SHA1_80", err: "needs a tag"},
		{in: "x AES_CM_128_HMAC_SHA1_80 inline:" + testKey, err: "not a number"},
		{in: "-1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey, err: "not a number"},
		{in: "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + testKey, err: "longer than 9"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 uri:" + testKey, err: "not inline"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:!!!!", err: "not base64"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:QUJD", err: "3 bytes, want 30"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^x", err: "lifetime"},
	} {
		c, err := parseCrypto(tc.in)
		switch {
		case tc.unsupported:
			require.ErrorIs(t, err, errUnsupportedCrypto, tc.in)
		case tc.err != "":
			require.ErrorContains(t, err, tc.err, tc.in)
			require.NotErrorIs(t, err, errUnsupportedCrypto, tc.in)
		default:
			require.NoError(t, err, tc.in)
			require.Equal(t, tc.suite, c.Suite, tc.in)
			require.Equal(t, tc.tag, c.Tag, tc.in)
			require.Len(t, c.Key, media.SRTPKeyLen)
			back, err := parseCrypto(c.String())
			require.NoError(t, err)
			require.Equal(t, c, back, "String parses back")
		}
	}
}

// FuzzParseCrypto: any a=crypto value gives a usable line or an error,
// never a panic; a usable one round-trips through String.
func FuzzParseCrypto(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey)
	f.Add("1 AES_CM_128_HMAC_SHA1_32 inline:" + testKey + "|2^31|1:4")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := parseCrypto(v)
		if err != nil {
			return
		}
		if len(c.Key) != media.SRTPKeyLen || c.Suite == 0 {
			t.Fatalf("%q: accepted %+v", v, c)
		}
		back, err := parseCrypto(c.String())
		if err != nil || back.Tag != c.Tag || string(back.Key) != string(c.Key) {
			t.Fatalf("%q: %v does not round-trip: %v", v, c, err)
		}
	})
}

func TestChooseSRTP(t *testing.T) {
	good := cryptoAttr{Tag: 3, Suite: media.SRTPAES128SHA1_32, Key: []byte(strings.Repeat("k", 30))}
	plain, withKey := offer{}, offer{Crypto: []cryptoAttr{good}}
	savp, savpNoKey := offer{SAVP: true, Crypto: []cryptoAttr{good}}, offer{SAVP: true}
	for _, tc := range []struct {
		mode   string
		secure bool
		o      offer
		srtp   bool
		reason string // of the 488; "" for no refusal
	}{
		{mode: SRTPOff, secure: true, o: withKey},
		{mode: SRTPOff, secure: true, o: savp, reason: "SRTP is off"},
		{mode: "", o: plain},
		{mode: SRTPOptional, o: withKey},
		{mode: SRTPOptional, o: savp, reason: "only exchanged over SIP over TLS"},
		{mode: SRTPOptional, secure: true, o: plain},
		{mode: SRTPOptional, secure: true, o: withKey, srtp: true},
		{mode: SRTPOptional, secure: true, o: savpNoKey, reason: "no usable a=crypto"},
		{mode: SRTPRequired, o: savp, reason: "only exchanged over SIP over TLS"},
		{mode: SRTPRequired, secure: true, o: plain, reason: "no usable a=crypto"},
		{mode: SRTPRequired, secure: true, o: savp, srtp: true},
		{mode: SRTPRequired, secure: true, o: withKey, srtp: true},
	} {
		st, err := chooseSRTP(tc.mode, tc.secure, tc.o)
		if tc.reason != "" {
			var se *sdpError
			require.ErrorAs(t, err, &se, "%+v", tc)
			require.Equal(t, 488, se.Code)
			require.Contains(t, se.Reason, tc.reason)
			continue
		}
		require.NoError(t, err, "%+v", tc)
		require.Equal(t, tc.srtp, st != nil, "%+v", tc)
		if st != nil {
			require.Equal(t, good.Tag, st.local.Tag, "answer with the offer's tag")
			require.Equal(t, good.Suite, st.local.Suite)
			require.Equal(t, good.Key, st.remote)
			require.NotEqual(t, good.Key, st.local.Key, "our own key")
			require.Equal(t, tc.o.SAVP, st.savp)
		}
	}
}

func TestSRTPConfig(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		err  string
	}{
		{func(c *Config) { c.Trunks[0].SRTP = "always" }, `sip.trunks[0].srtp: "always" is not one of required, optional, off`},
		{func(c *Config) { c.Trunks[0].SRTP = SRTPRequired }, "sip.trunks[0].srtp: required needs sip.tls_listen"},
		{func(c *Config) { c.Trunks[0].SRTPWithoutTLS = true }, "srtp_without_tls: is set but srtp is off"},
		{func(c *Config) { c.TLSListen = "127.0.0.1:5061" }, "sip.tls_listen: needs tls_cert and tls_key"},
		{func(c *Config) { c.TLSListen = "x:y"; c.TLSCert, c.TLSKey = "c", "k" }, `sip.tls_listen: "x:y" is not an ip:port`},
		{func(c *Config) { c.TLSCert = "c" }, "sip.tls_cert: is set but tls_listen is not"},
		{func(c *Config) { c.Trunks[0].SRTP, c.Trunks[0].SRTPWithoutTLS = SRTPRequired, true }, ""},
		{func(c *Config) {
			c.TLSListen, c.TLSCert, c.TLSKey = "127.0.0.1:0", "c", "k"
			c.Trunks[0].SRTP = SRTPOptional
		}, ""},
	} {
		cfg := DefaultConfig()
		tc.edit(&cfg)
		err := cfg.Validate()
		if tc.err == "" {
			require.NoError(t, err)
		} else {
			require.ErrorContains(t, err, tc.err)
		}
	}
}

// testTLS is a server TLS config with a fresh self-signed certificate for
// 127.0.0.1, and a client config trusting it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hotline test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// startTLSServer starts a server with SIP over TLS and one trunk edited by trunk.
func startTLSServer(t *testing.T, trunk func(*TrunkConfig)) (*fixture, *tls.Config) {
	t.Helper()
	srvTLS, cliTLS := testTLS(t)
	ports, err := media.NewPorts(media.PortsConfig{IP: netip.MustParseAddr("127.0.0.1"), Quarantine: -1})
	require.NoError(t, err)
	f := startServerWith(t, func(c *Config) {
		c.TLSListen, c.TLSCert, c.TLSKey = "127.0.0.1:0", "unused.pem", "unused.pem"
		trunk(&c.Trunks[0])
	}, Options{Ports: ports, MediaTimeout: 5 * time.Second, Logger: testLogger(t), TLSConfig: srvTLS})
	require.True(t, f.srv.TLSAddr().IsValid())
	return f, cliTLS
}

// tlsConn is a raw SIP over TLS client.
type tlsConn struct {
	t *testing.T
	c *tls.Conn
	r *bufio.Reader
}

func dialTLS(t *testing.T, to netip.AddrPort, cfg *tls.Config) *tlsConn {
	t.Helper()
	c, err := tls.Dial("tcp", to.String(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &tlsConn{t: t, c: c, r: bufio.NewReader(c)}
}

// send writes msg with its Via rewritten for TLS.
func (tc *tlsConn) send(msg string) {
	msg = strings.ReplaceAll(msg, "SIP/2.0/UDP LOCAL", "SIP/2.0/TLS "+tc.c.LocalAddr().String())
	msg = strings.ReplaceAll(msg, "LOCAL", tc.c.LocalAddr().String()+";transport=tls")
	_, err := io.WriteString(tc.c, msg)
	require.NoError(tc.t, err)
}

// final reads messages until a final response and returns it with its body;
// requests from the server (a BYE) are answered 200.
func (tc *tlsConn) final() (rawResponse, string, string) {
	tc.t.Helper()
	require.NoError(tc.t, tc.c.SetReadDeadline(time.Now().Add(5*time.Second)))
	for {
		head, body := tc.read()
		r := parseRaw(tc.t, head)
		if r.code >= 200 {
			return r, head, body
		}
	}
}

func (tc *tlsConn) read() (string, string) {
	tc.t.Helper()
	var head strings.Builder
	for {
		line, err := tc.r.ReadString('\n')
		require.NoError(tc.t, err)
		if line == "\r\n" && head.Len() == 0 {
			continue // keep-alive
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
	}
	n := 0
	for line := range strings.Lines(head.String()) {
		if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length:"); ok {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, n)
	_, err := io.ReadFull(tc.r, body)
	require.NoError(tc.t, err)
	return head.String(), string(body)
}

func cryptoOffer(proto, cryptoLine string) string {
	b := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 " + proto + " 0 101\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n"
	if cryptoLine != "" {
		b += "a=crypto:" + cryptoLine + "\r\n"
	}
	return b
}

// A trunk with srtp: required refuses an INVITE without a usable a=crypto
// with 488 (over TLS), and one with keys over plain UDP; an INVITE with a
// key over TLS is answered RTP/SAVP with our own key under the same tag.
// The trunk also has digest auth: challenged and answered over TLS.
func TestSRTPRequiredOverTLS(t *testing.T) {
	f, cli := startTLSServer(t, func(tr *TrunkConfig) {
		tr.SRTP = SRTPRequired
		tr.Auth = &TrunkAuth{Username: "carrier1", Password: "s3cret"}
	})
	c := dialTLS(t, f.srv.TLSAddr(), cli)
	sendAuthed := func(msg string) (rawResponse, string, string) {
		c.send(msg)
		r, head, _ := c.final()
		require.Equal(t, 401, r.code, head)
		chal, err := digest.ParseChallenge(r.headers["www-authenticate"])
		require.NoError(t, err)
		msg = strings.Replace(msg, "branch=z9hG4bK-", "branch=z9hG4bK-authed-", 1)
		c.send(strings.Replace(msg, "Content-Length:", "Authorization: "+credentials(t, chal, "s3cret", 1).String()+"\r\nContent-Length:", 1))
		return c.final()
	}

	r, _, _ := sendAuthed(invite(t, "", cryptoOffer("RTP/SAVP", "")))
	require.Equal(t, 488, r.code)
	require.Contains(t, r.reason, "no usable a=crypto")
	r, _, _ = sendAuthed(invite(t, "", cryptoOffer("RTP/AVP", "1 AES_256_CM_HMAC_SHA1_80 inline:"+testKey)))
	require.Equal(t, 488, r.code, "a suite we lack is no key")
	r, _, _ = sendAuthed(request("INVITE", 70, "", ""))
	require.Equal(t, 488, r.code, "no late offer on a required trunk")
	require.Contains(t, r.reason, "SRTP required")

	// Keys over UDP are refused whatever the offer.
	code, _ := challengesOf(t, f.srv.Addr(), invite(t, "", cryptoOffer("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:"+testKey)))
	require.Equal(t, 401, code)

	r, head, body := sendAuthed(invite(t, "", cryptoOffer("RTP/SAVP", "5 AES_CM_128_HMAC_SHA1_32 inline:"+testKey)))
	require.Equal(t, 200, r.code, head)
	require.Contains(t, body, "m=audio ")
	require.Contains(t, body, " RTP/SAVP 0 101")
	require.Regexp(t, `a=crypto:5 AES_CM_128_HMAC_SHA1_32 inline:\S{40}\r\n`, body)
	require.NotContains(t, body, testKey, "our key, not the caller's")
	require.Contains(t, r.headers["contact"], "transport=tls")
	require.Contains(t, r.headers["contact"], f.srv.TLSAddr().String())
	c.send(ackOf(head, f.srv.TLSAddr(), "TLS LOCAL"))
	call := f.nextCall(t)
	require.True(t, call.Media().SRTP())
	call.Hangup("test")
	bye, _ := c.read()
	require.True(t, strings.HasPrefix(bye, "BYE "), bye)
	waitDone(t, call.Done(), "hangup over TLS")
}

// ackOf is the ACK for the 200 in ok, sent to target.
func ackOf(ok string, target netip.AddrPort, via string) string {
	var dialog string
	for line := range strings.Lines(ok) {
		for _, h := range []string{"From:", "To:", "Call-ID:"} {
			if strings.HasPrefix(line, h) {
				dialog += line
			}
		}
	}
	return "ACK sip:hotline@" + target.String() + " SIP/2.0\r\nVia: SIP/2.0/" + via + ";branch=z9hG4bK-ack-" +
		strconv.FormatInt(time.Now().UnixNano(), 36) + "\r\nMax-Forwards: 70\r\n" + dialog + "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
}

// The same required trunk over UDP: keys in the clear are refused (488),
// srtp_without_tls lets them through.
func TestSRTPKeysOverPlainSIP(t *testing.T) {
	f := startServer(t, func(c *Config) { c.Trunks[0].SRTP, c.Trunks[0].SRTPWithoutTLS = SRTPRequired, true })
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer conn.Close()
	local := conn.LocalAddr().String()
	to := net.UDPAddrFromAddrPort(f.srv.Addr())
	msg := invite(t, "", cryptoOffer("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:"+testKey))
	_, err = conn.WriteTo([]byte(strings.ReplaceAll(msg, "LOCAL", local)), to)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 4096)
	var ok string
	for ok == "" {
		n, _, err := conn.ReadFrom(buf)
		require.NoError(t, err)
		if r := parseRaw(t, string(buf[:n])); r.code >= 200 {
			require.Equal(t, 200, r.code)
			ok = string(buf[:n])
		}
	}
	require.Contains(t, ok, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:")
	_, err = conn.WriteTo([]byte(ackOf(ok, f.srv.Addr(), "UDP "+local)), to)
	require.NoError(t, err)
	call := f.nextCall(t)
	require.True(t, call.Media().SRTP())
	call.Hangup("test")
	waitDone(t, call.Done(), "hangup")
}

// An optional trunk still takes a plain call (siptest phone, G.711, our
// tone heard) and answers an RTP/AVP offer with keys with SRTP.
func TestSRTPOptionalPlainCall(t *testing.T) {
	f, _ := startTLSServer(t, func(tr *TrunkConfig) { tr.SRTP = SRTPOptional })
	p := newPhone(t, siptest.PhoneOptions{})
	ctx := t.Context()
	call, err := p.Dial(ctx, f.uri, siptest.DialOptions{})
	require.NoError(t, err)
	c := f.nextCall(t)
	require.False(t, c.Media().SRTP())
	require.NoError(t, call.WaitTone(ctx, toneHz, 200*time.Millisecond), "caller hears the prompt")
	require.NoError(t, call.Hangup(ctx))
	waitDone(t, c.Done(), "server call end")
}
