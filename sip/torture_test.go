package sip

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hotline/hotline/sip/siptest"
	"github.com/stretchr/testify/require"
)

// tortureCase is one RFC 4475 §3 message (sip/testdata/torture/<name>.msg,
// written for this test from the RFC's descriptions) and the final answers
// we give to it, in any order; none means it is dropped.
type tortureCase struct {
	name string
	udp  []int
	tcp  []int // nil: same as udp
	note string
}

// tortureCases: the right answer for each message. A UAS that serves
// INVITE, ACK, BYE, CANCEL, OPTIONS and INFO answers REGISTER 405 and other
// methods 501. Where our answer is one the RFC allows but not the one it
// prefers, the note says so.
var tortureCases = []tortureCase{
	// 3.1.1 valid messages: accepted.
	{name: "wsinv", udp: []int{481}, note: "valid; its To has a tag, so it is an INVITE in a dialog we do not have"},
	{name: "intmeth", udp: []int{501}, note: "valid; unknown method"},
	{name: "esc01", udp: []int{200}},
	{name: "escnull", udp: []int{405}, note: "valid REGISTER; we are no registrar"},
	{name: "esc02", udp: []int{501}, note: "RE%47IST%45R is not REGISTER"},
	{name: "lwsdisp", udp: []int{200}},
	{name: "longreq", udp: []int{200}},
	{name: "dblreq", udp: []int{405}, tcp: []int{405, 200},
		note: "over UDP the INVITE after the REGISTER's Content-Length is discarded; on a stream it is the next message"},
	{name: "semiuri", udp: []int{200}},
	{name: "transports", udp: []int{200}},
	{name: "mpart01", udp: []int{200}, note: "the SDP part of the multipart/mixed body is the offer"},
	{name: "unreason", note: "a response matching no transaction: dropped"},
	{name: "noreason", note: "a response matching no transaction: dropped"},
	// 3.1.2 invalid messages: refused.
	{name: "badinv01", udp: []int{400}},
	{name: "clerr", udp: []int{400}, tcp: []int{},
		note: "on TCP the missing body bytes are awaited; the connection is closed after tcp_message_timeout"},
	{name: "scalar02", udp: []int{400}},
	{name: "scalarlg", udp: []int{400}},
	{name: "quotbal", udp: []int{400}},
	{name: "ltgtruri", udp: []int{400}},
	{name: "lwsruri", udp: []int{400}},
	{name: "lwsstart", udp: []int{400}},
	{name: "trws", udp: []int{400}},
	{name: "escruri", udp: []int{400}},
	{name: "baddate", udp: []int{400}},
	{name: "regbadct", udp: []int{400}},
	{name: "badaspec", udp: []int{400}},
	{name: "baddn", udp: []int{400}},
	{name: "badvers", udp: []int{505}},
	{name: "mismatch01", udp: []int{400}},
	{name: "mismatch02", udp: []int{400}},
	{name: "bigcode", note: "a response: dropped"},
	// 3.2 transaction layer.
	{name: "badbranch", udp: []int{200},
		note: "branch is the bare magic cookie; the RFC allows 400 or falling back to RFC 2543 matching, sipgo falls back"},
	// 3.3 application layer.
	{name: "insuf", udp: []int{400}},
	{name: "unkscm", udp: []int{416}},
	{name: "novelsc", udp: []int{416}},
	{name: "unksm2", udp: []int{405}, note: "well-formed REGISTER; we are no registrar"},
	{name: "bext01", udp: []int{420}},
	{name: "invut", udp: []int{415}},
	{name: "regaut01", udp: []int{405}, note: "we are no registrar, so the unknown auth scheme is never looked at"},
	{name: "multi01", udp: []int{400}},
	{name: "mcl01", udp: []int{400}},
	{name: "bcast", note: "a response: dropped, never sent on to 255.255.255.255"},
	{name: "sdp01", udp: []int{406}},
	// 3.4 backward compatibility.
	{name: "inv2543", udp: []int{200}, note: "RFC 2543 INVITE without branch or From tag: precheck gives it a branch"},
}

func TestTortureSetIsComplete(t *testing.T) {
	files, err := filepath.Glob("testdata/torture/*.msg")
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".msg"))
	}
	var listed []string
	for _, c := range tortureCases {
		listed = append(listed, c.name)
	}
	slices.Sort(listed)
	require.Equal(t, names, listed, "every torture message has an answer in the table")
}

// Every RFC 4475 message, over UDP and over TCP, gets its answer; then a
// normal call still completes on both.
func TestTorture(t *testing.T) {
	f := startServer(t, func(c *Config) { c.TCPMessageTimeout = time.Second })
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			for _, tc := range tortureCases {
				t.Run(tc.name, func(t *testing.T) {
					want := tc.udp
					if transport == "tcp" && tc.tcp != nil {
						want = tc.tcp
					}
					raw, err := os.ReadFile(filepath.Join("testdata/torture", tc.name+".msg"))
					require.NoError(t, err)
					got := sendTorture(t, f, transport, raw, len(want))
					require.ElementsMatch(t, want, got, "%s over %s (%s)", tc.name, transport, tc.note)
				})
			}
		})
	}
	require.Eventually(t, func() bool { return f.srv.ActiveCalls() == 0 }, 10*time.Second, 20*time.Millisecond)
	for _, transport := range []string{"udp", "tcp"} {
		call, err := newPhone(t, siptest.PhoneOptions{Transport: transport}).Dial(t.Context(), f.uri, siptest.DialOptions{})
		require.NoError(t, err, "a normal call after the torture set (%s)", transport)
		require.NoError(t, call.WaitTone(t.Context(), toneHz, 200*time.Millisecond))
		require.NoError(t, call.Hangup(t.Context()))
	}
}

// tortureConn is one client socket of the torture test, UDP or TCP.
type tortureConn struct {
	t     *testing.T
	c     net.Conn
	r     *bufio.Reader // tcp
	local string
}

// sendTorture sends raw (LOCAL and TRANSPORT filled in) and returns the
// final answers, waiting for want of them (for none: 400 ms of silence).
// A 200 to an INVITE is ACKed and the call hung up with BYE.
func sendTorture(t *testing.T, f *fixture, transport string, raw []byte, want int) []int {
	t.Helper()
	c, err := net.Dial(transport, f.srv.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	tcn := &tortureConn{t: t, c: c, r: bufio.NewReader(c), local: c.LocalAddr().String()}
	msg := strings.ReplaceAll(string(raw), "LOCAL", tcn.local)
	msg = strings.ReplaceAll(msg, "TRANSPORT", strings.ToUpper(transport))
	_, err = c.Write([]byte(msg))
	require.NoError(t, err)
	var finals []int
	wait := 5 * time.Second
	if want == 0 {
		wait = 400 * time.Millisecond
	}
	deadline := time.Now().Add(wait)
	for len(finals) < want || want == 0 {
		m, err := tcn.read(deadline)
		if err != nil {
			break
		}
		if !strings.HasPrefix(m, "SIP/2.0 ") {
			continue // a BYE after our ACK timeout, say: not an answer
		}
		r := parseRaw(t, m)
		if r.code < 200 {
			continue
		}
		finals = append(finals, r.code)
		if r.code == 200 && strings.HasSuffix(r.headers["cseq"], " INVITE") {
			finals = append(finals, tcn.ackAndBye(m, r, f, deadline)...)
		}
	}
	return finals
}

func (tc *tortureConn) read(deadline time.Time) (string, error) {
	if err := tc.c.SetReadDeadline(deadline); err != nil {
		return "", err
	}
	if _, ok := tc.c.(*net.UDPConn); ok {
		buf := make([]byte, 65536)
		n, err := tc.c.Read(buf)
		return string(buf[:n]), err
	}
	var head strings.Builder
	clen := 0
	for {
		l, err := tc.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		head.WriteString(l)
		if l == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "content-length") {
			clen, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, clen)
	if _, err := io.ReadFull(tc.r, body); err != nil {
		return "", err
	}
	return head.String() + string(body), nil
}

// ackAndBye confirms the call answered by ok and hangs it up; it returns the
// other final answers read meanwhile.
func (tc *tortureConn) ackAndBye(ok string, r rawResponse, f *fixture, deadline time.Time) (others []int) {
	t := tc.t
	var dialog string
	for line := range strings.Lines(ok) {
		for _, h := range []string{"From:", "To:", "Call-ID:"} {
			if strings.HasPrefix(line, h) {
				dialog += line
			}
		}
	}
	seq, _, _ := strings.Cut(r.headers["cseq"], " ")
	n, err := strconv.Atoi(seq)
	require.NoError(t, err)
	target := "sip:hotline@" + f.srv.Addr().String()
	tr := "UDP"
	if _, udp := tc.c.(*net.UDPConn); !udp {
		tr = "TCP"
	}
	via := func() string {
		return "Via: SIP/2.0/" + tr + " " + tc.local + ";branch=z9hG4bK-torture-" + uuid.NewString() + "\r\n"
	}
	ack := "ACK " + target + " SIP/2.0\r\n" + via() + "Max-Forwards: 70\r\n" + dialog + "CSeq: " + seq + " ACK\r\nContent-Length: 0\r\n\r\n"
	bye := "BYE " + target + " SIP/2.0\r\n" + via() + "Max-Forwards: 70\r\n" + dialog + "CSeq: " + strconv.Itoa(n+1) + " BYE\r\nContent-Length: 0\r\n\r\n"
	for _, m := range []string{ack, bye} {
		_, err := tc.c.Write([]byte(m))
		require.NoError(t, err)
	}
	for {
		m, err := tc.read(deadline)
		require.NoError(t, err, "no answer to our BYE")
		if !strings.HasPrefix(m, "SIP/2.0 ") {
			continue
		}
		res := parseRaw(t, m)
		if strings.HasSuffix(res.headers["cseq"], " BYE") {
			require.Equal(t, 200, res.code, "BYE")
			return others
		}
		if res.code >= 200 {
			others = append(others, res.code)
		}
	}
}

// precheck never panics, and either passes a message on or says why not.
func FuzzPrecheck(f *testing.F) {
	files, err := filepath.Glob("testdata/torture/*.msg")
	if err != nil {
		f.Fatal(err)
	}
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, msg []byte, stream bool) {
		v := precheck(msg, stream)
		if (v.msg == nil) == (v.code == 0) && len(msg) > 0 {
			t.Fatalf("verdict %+v: a message must be passed on or refused", v)
		}
		if v.reply != nil && !strings.HasPrefix(string(v.reply), "SIP/2.0 "+strconv.Itoa(v.code)+" ") {
			t.Fatalf("reply %q does not carry code %d", v.reply, v.code)
		}
	})
}
