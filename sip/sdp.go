package sip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/media"
	"github.com/pion/sdp/v3"
)

// dtmfPayloadType is the RFC 4733 payload type we offer when we make the offer.
const dtmfPayloadType = 101

// Media directions (RFC 3264 §5.1).
const (
	dirSendRecv = "sendrecv"
	dirSendOnly = "sendonly"
	dirRecvOnly = "recvonly"
	dirInactive = "inactive"
)

// sdpError is an offer we refuse: Code 400 for a broken body, 488 when no
// acceptable media is offered. Reason goes into the SIP reason phrase.
type sdpError struct {
	Code   int
	Reason string
}

func (e *sdpError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Reason) }

func badSDP(format string, args ...any) *sdpError {
	return &sdpError{Code: 400, Reason: "Bad SDP: " + fmt.Sprintf(format, args...)}
}

func notAcceptable(format string, args ...any) *sdpError {
	return &sdpError{Code: 488, Reason: "Not Acceptable Here: " + fmt.Sprintf(format, args...)}
}

// offer is what we take from the peer's SDP: where to send, in which codec.
type offer struct {
	Addr      netip.AddrPort // zero address (0.0.0.0) means old-style hold
	Codec     media.Codec    // the peer's most preferred codec we support
	DTMFType  uint8          // RFC 4733 payload type, 0 when not offered
	Direction string         // the peer's direction attribute (sendrecv when absent)
	SAVP      bool           // the transport is RTP/SAVP (SRTP is a must)
	Crypto    []cryptoAttr   // the usable a=crypto lines, in the peer's order
}

// parseOffer parses an SDP offer (or a late-offer answer) and picks the
// caller's preferred G.711 codec plus telephone-event. Errors are *sdpError.
// allowed, when non-nil, restricts the choice to those payload types (used when
// the body answers our own offer).
func parseOffer(body []byte, allowed []media.Codec) (offer, error) {
	var o offer
	if len(body) == 0 {
		return o, badSDP("empty body")
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return o, badSDP("%s", oneLine(err.Error()))
	}
	var audio *sdp.MediaDescription
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media == "audio" && m.MediaName.Port.Value != 0 {
			audio = m
			break
		}
	}
	if audio == nil {
		return o, notAcceptable("no audio stream offered")
	}
	switch strings.ToUpper(strings.Join(audio.MediaName.Protos, "/")) {
	case "RTP/AVP":
	case "RTP/SAVP":
		o.SAVP = true
	default:
		return o, notAcceptable("audio transport %q is not RTP/AVP or RTP/SAVP", strings.Join(audio.MediaName.Protos, "/"))
	}
	port := audio.MediaName.Port.Value
	if port < 1 || port > 65535 {
		return o, badSDP("audio port %d out of range", port)
	}
	ci := audio.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return o, badSDP("no connection address (c=) for audio")
	}
	if ci.NetworkType != "IN" || (ci.AddressType != "IP4" && ci.AddressType != "IP6") {
		return o, badSDP("connection %q %q is not IN IP4/IP6", ci.NetworkType, ci.AddressType)
	}
	host, _, _ := strings.Cut(ci.Address.Address, "/")
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return o, notAcceptable("connection address %q is not an IP address", host)
	}
	o.Addr = netip.AddrPortFrom(ip.Unmap(), uint16(port))

	rtpmap := map[string]string{} // payload type → lower-case "name/rate"
	for _, a := range audio.Attributes {
		if a.Key == "crypto" {
			if c, err := parseCrypto(a.Value); err == nil {
				o.Crypto = append(o.Crypto, c)
			}
			continue
		}
		if a.Key != "rtpmap" {
			continue
		}
		pt, enc, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		if !ok {
			return o, badSDP("malformed rtpmap %q", a.Value)
		}
		rtpmap[pt] = strings.ToLower(strings.TrimSpace(enc))
	}
	codecOK := func(c media.Codec) bool {
		if allowed == nil {
			return true
		}
		for _, a := range allowed {
			if a == c {
				return true
			}
		}
		return false
	}
	chosen := false
	for _, f := range audio.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			return o, badSDP("payload type %q is not a number 0-127", f)
		}
		enc := rtpmap[f]
		var c media.Codec
		switch {
		case pt == 0 && (enc == "" || strings.HasPrefix(enc, "pcmu/8000")):
			c = media.PCMU
		case pt == 8 && (enc == "" || strings.HasPrefix(enc, "pcma/8000")):
			c = media.PCMA
		case strings.HasPrefix(enc, "telephone-event/8000"):
			if o.DTMFType == 0 {
				o.DTMFType = uint8(pt)
			}
			continue
		default:
			continue
		}
		if !chosen && codecOK(c) {
			o.Codec, chosen = c, true
		}
	}
	if !chosen {
		return o, notAcceptable("no common codec (we accept PCMU, PCMA)")
	}
	o.Direction = direction(sd.Attributes, dirSendRecv)
	o.Direction = direction(audio.Attributes, o.Direction)
	return o, nil
}

func direction(attrs []sdp.Attribute, def string) string {
	for _, a := range attrs {
		switch a.Key {
		case dirSendRecv, dirSendOnly, dirRecvOnly, dirInactive:
			return a.Key
		}
	}
	return def
}

// answerDirection is our reply to the peer's direction (RFC 3264 §6.1).
func answerDirection(peer string) string {
	switch peer {
	case dirSendOnly:
		return dirRecvOnly
	case dirRecvOnly:
		return dirSendOnly
	case dirInactive:
		return dirInactive
	}
	return dirSendRecv
}

// onHold tells whether the peer's offer puts us on hold.
func (o offer) onHold() bool {
	return o.Direction == dirSendOnly || o.Direction == dirInactive || o.Addr.Addr().IsUnspecified()
}

// sdpSession is our side of the SDP exchange for one call: origin kept
// across re-INVITEs with its version bumped on every new body (RFC 3264 §8).
type sdpSession struct {
	id      uint64
	version uint64
	local   netip.AddrPort
	sdes    *sdesState // SRTP: our a=crypto line goes in every body; nil for plain RTP
}

func newSDPSession(local netip.AddrPort) *sdpSession {
	id := uint64(time.Now().UnixNano())
	return &sdpSession{id: id, version: id, local: local}
}

// marshal builds an SDP body offering (or answering with) the given payloads.
func (s *sdpSession) marshal(codecs []media.Codec, dtmfPT uint8, dir string) ([]byte, error) {
	s.version++
	ipType := "IP4"
	if s.local.Addr().Is6() {
		ipType = "IP6"
	}
	addr := s.local.Addr().String()
	formats := make([]string, 0, len(codecs)+1)
	attrs := make([]sdp.Attribute, 0, len(codecs)+4)
	for _, c := range codecs {
		formats = append(formats, strconv.Itoa(int(c)))
		attrs = append(attrs, sdp.NewAttribute("rtpmap", fmt.Sprintf("%d %s/8000", c, c)))
	}
	if dtmfPT != 0 {
		formats = append(formats, strconv.Itoa(int(dtmfPT)))
		attrs = append(attrs,
			sdp.NewAttribute("rtpmap", fmt.Sprintf("%d telephone-event/8000", dtmfPT)),
			sdp.NewAttribute("fmtp", fmt.Sprintf("%d 0-16", dtmfPT)))
	}
	attrs = append(attrs, sdp.NewAttribute("ptime", "20"), sdp.NewPropertyAttribute(dir))
	protos := []string{"RTP", "AVP"}
	if s.sdes != nil {
		attrs = append(attrs, sdp.NewAttribute("crypto", s.sdes.local.String()))
		if s.sdes.savp {
			protos[1] = "SAVP"
		}
	}
	sd := sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "hotline", SessionID: s.id, SessionVersion: s.version,
			NetworkType: "IN", AddressType: ipType, UnicastAddress: addr,
		},
		SessionName:           "hotline",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: ipType, Address: &sdp.Address{Address: addr}},
		TimeDescriptions:      []sdp.TimeDescription{{Timing: sdp.Timing{}}},
		MediaDescriptions: []*sdp.MediaDescription{{
			MediaName: sdp.MediaName{
				Media: "audio", Port: sdp.RangedPort{Value: int(s.local.Port())},
				Protos: protos, Formats: formats,
			},
			Attributes: attrs,
		}},
	}
	b, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("sip: build sdp: %w", err)
	}
	return b, nil
}

// answer builds the SDP answer to o.
func (s *sdpSession) answer(o offer) ([]byte, error) {
	return s.marshal([]media.Codec{o.Codec}, o.DTMFType, answerDirection(o.Direction))
}

// offerAll builds our own offer (late offer): PCMU, PCMA and telephone-event.
func (s *sdpSession) offerAll() ([]byte, error) {
	return s.marshal([]media.Codec{media.PCMU, media.PCMA}, dtmfPayloadType, dirSendRecv)
}

// oneLine makes an error text safe for a SIP reason phrase.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 120 {
		s = s[:120]
	}
	return strings.TrimSpace(s)
}
