package sipptest

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

// recordingUAS is a minimal UDP SIP callee for tests: it answers INVITE with
// 200 and an SDP naming its own RTP socket, answers BYE with 200, and records
// what arrives on the RTP socket.
type recordingUAS struct {
	sip, media net.PacketConn
	wg         sync.WaitGroup

	mu      sync.Mutex
	pcmu    int             // PCMU packets received
	digits  []byte          // RFC 4733 digits, one per event timestamp
	sources map[string]bool // RTP source addresses
	byes    int
}

func startRecordingUAS(t *testing.T) *recordingUAS {
	t.Helper()
	sipConn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	media, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	u := &recordingUAS{sip: sipConn, media: media, sources: map[string]bool{}}
	u.wg.Add(2)
	go u.serveSIP()
	go u.serveRTP()
	t.Cleanup(func() {
		u.sip.Close()
		u.media.Close()
		u.wg.Wait()
	})
	return u
}

func (u *recordingUAS) serveSIP() {
	defer u.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := u.sip.ReadFrom(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		method, _, _ := strings.Cut(msg, " ")
		switch method {
		case "INVITE":
			sdp := fmt.Sprintf("v=0\r\no=uas 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
				"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
				u.media.LocalAddr().(*net.UDPAddr).Port)
			u.respond(msg, from, sdp)
		case "BYE":
			u.mu.Lock()
			u.byes++
			u.mu.Unlock()
			u.respond(msg, from, "")
		}
	}
}

// respond sends a 200 OK for the request msg, with an SDP body if given.
func (u *recordingUAS) respond(msg string, to net.Addr, sdp string) {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(name) {
		case "via", "from", "call-id", "cseq":
			b.WriteString(line + "\r\n")
		case "to":
			if !strings.Contains(line, "tag=") {
				line += ";tag=uas1"
			}
			b.WriteString(line + "\r\n")
		}
	}
	fmt.Fprintf(&b, "Contact: <sip:uas@%s>\r\n", u.sip.LocalAddr())
	if sdp != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(sdp), sdp)
	_, _ = u.sip.WriteTo([]byte(b.String()), to)
}

func (u *recordingUAS) serveRTP() {
	defer u.wg.Done()
	buf := make([]byte, 1500)
	seen := map[uint32]bool{}
	for {
		n, from, err := u.media.ReadFrom(buf)
		if err != nil {
			return
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		u.mu.Lock()
		u.sources[from.String()] = true
		switch p.PayloadType {
		case 0:
			u.pcmu++
		case 101:
			if len(p.Payload) >= 4 && int(p.Payload[0]) < len(dtmfEvents) && !seen[p.Timestamp] {
				seen[p.Timestamp] = true
				u.digits = append(u.digits, dtmfEvents[p.Payload[0]])
			}
		}
		u.mu.Unlock()
	}
}

// TestIVRCallerSendsAudioAndDigits checks what a hotline would receive from
// ivr_caller.xml: a stream of PCMU for the whole call, digits 1, 1, # as
// RFC 4733 events, all from one source address (so symmetric RTP latches to
// the right place), and a BYE at the end.
func TestIVRCallerSendsAudioAndDigits(t *testing.T) {
	uas := startRecordingUAS(t)
	res, err := Run(t.Context(), Options{
		Scenario: filepath.Join("testdata", "ivr_caller.xml"),
		Target:   uas.sip.LocalAddr().String(),
		Keys:     map[string]string{"hold": "500"},
		Timeout:  30 * time.Second,
	})
	require.NoError(t, err)
	require.NoError(t, res.Err())

	uas.mu.Lock()
	defer uas.mu.Unlock()
	require.Equal(t, "11#", string(uas.digits))
	// About 4 s of call at 50 packets a second.
	require.Greater(t, uas.pcmu, 150, "PCMU packets")
	require.Len(t, uas.sources, 1, "audio and digits from one address: %v", uas.sources)
	require.Equal(t, 1, uas.byes)
}
