package media

// SRTP (RFC 3711) with keys exchanged by SDES (RFC 4568): the SIP edge
// parses the keys from SDP and hands them to SetSRTP; the endpoint then
// protects every packet it sends and authenticates and decrypts every
// packet it receives, in place in its reused buffers (no allocation per
// packet). The transform is pion/srtp's. A packet that fails
// authentication or replay checks is dropped before it can latch the
// send address or reach the jitter buffer.

import (
	"fmt"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTPSuite is an SRTP crypto suite of RFC 4568 §6.2.
type SRTPSuite uint8

// The suites we speak.
const (
	// SRTPAES128SHA1_80 is AES_CM_128_HMAC_SHA1_80: AES-128 counter mode,
	// an 80-bit HMAC-SHA1 tag.
	SRTPAES128SHA1_80 SRTPSuite = iota + 1
	// SRTPAES128SHA1_32 is AES_CM_128_HMAC_SHA1_32: the same with a 32-bit tag.
	SRTPAES128SHA1_32
)

// SRTPKeyLen is the length of a master key and salt of both suites
// together (16 + 14 bytes), as carried base64 in a=crypto's inline:.
const SRTPKeyLen = 30

// String is the suite's name in SDP.
func (s SRTPSuite) String() string {
	switch s {
	case SRTPAES128SHA1_80:
		return "AES_CM_128_HMAC_SHA1_80"
	case SRTPAES128SHA1_32:
		return "AES_CM_128_HMAC_SHA1_32"
	}
	return fmt.Sprintf("SRTPSuite(%d)", uint8(s))
}

func (s SRTPSuite) profile() (srtp.ProtectionProfile, error) {
	switch s {
	case SRTPAES128SHA1_80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, nil
	case SRTPAES128SHA1_32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, nil
	}
	return 0, fmt.Errorf("media: unknown SRTP suite %d", uint8(s))
}

// DropSRTP: a packet that failed SRTP authentication or the replay check.
const DropSRTP = "srtp"

// srtpTx protects sent packets; used only under Endpoint.wmu.
type srtpTx struct {
	ctx   *srtp.Context
	hdr   rtp.Header // reused: pion parses the header into it
	key   string     // the local master key and salt
	suite SRTPSuite
}

// srtpRx authenticates and decrypts received packets; used only by the
// endpoint's one receiving goroutine (or under rxMu).
type srtpRx struct {
	ctx *srtp.Context
	hdr rtp.Header
}

func newSRTPContext(suite SRTPSuite, keySalt []byte) (*srtp.Context, error) {
	p, err := suite.profile()
	if err != nil {
		return nil, err
	}
	if len(keySalt) != SRTPKeyLen {
		return nil, fmt.Errorf("media: SRTP key and salt are %d bytes, want %d", len(keySalt), SRTPKeyLen)
	}
	c, err := srtp.CreateContext(keySalt[:16], keySalt[16:], p, srtp.SRTPReplayProtection(128))
	if err != nil {
		return nil, fmt.Errorf("media: SRTP: %w", err)
	}
	return c, nil
}

// SetSRTP turns SRTP on with suite: local is our master key and salt (what
// we send is protected with it), remote the peer's (what we receive must
// be). Call it before SetRemote; a second call with the same local key
// keeps the send state and only changes the receive key (a re-INVITE that
// rekeys). Once on, SRTP stays on: plain packets are dropped.
func (e *Endpoint) SetSRTP(suite SRTPSuite, local, remote []byte) error {
	rc, err := newSRTPContext(suite, remote)
	if err != nil {
		return err
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if tx := e.srtpTx.Load(); tx == nil || tx.key != string(local) || tx.suite != suite {
		tc, err := newSRTPContext(suite, local)
		if err != nil {
			return err
		}
		e.srtpTx.Store(&srtpTx{ctx: tc, key: string(local), suite: suite})
	}
	e.srtpRx.Store(&srtpRx{ctx: rc})
	return nil
}

// SRTP reports whether SetSRTP turned SRTP on.
func (e *Endpoint) SRTP() bool { return e.srtpTx.Load() != nil }

// protect encrypts the RTP packet in b in place (b's array must have room
// for the tag: the endpoint's send buffer has).
func (t *srtpTx) protect(b []byte) ([]byte, error) {
	return t.ctx.EncryptRTP(b, b, &t.hdr)
}

// unprotect authenticates and decrypts b in place; ok is false for a
// packet to drop.
func (r *srtpRx) unprotect(b []byte) ([]byte, bool) {
	out, err := r.ctx.DecryptRTP(b[:0], b, &r.hdr)
	return out, err == nil
}
