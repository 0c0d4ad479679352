package sip

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// maxSDPPart bounds the SDP part read out of a multipart body.
const maxSDPPart = 16 << 10

// inviteSDP returns the SDP offer of an INVITE: its body when that is
// application/sdp, or the first application/sdp part of a multipart/mixed
// or multipart/alternative body (RFC 5621; RFC 4475 mpart01). ok is false
// when there is no SDP to read (answered 415).
func inviteSDP(req *sip.Request) ([]byte, bool) {
	ct := req.ContentType()
	if ct == nil {
		return nil, false
	}
	mt, params, err := mime.ParseMediaType(ct.Value())
	if err != nil {
		return nil, false
	}
	switch mt {
	case "application/sdp":
		return req.Body(), true
	case "multipart/mixed", "multipart/alternative":
	default:
		return nil, false
	}
	if params["boundary"] == "" {
		return nil, false
	}
	r := multipart.NewReader(bytes.NewReader(req.Body()), params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err != nil {
			return nil, false
		}
		pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil || pt != "application/sdp" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, maxSDPPart))
		return b, err == nil && len(b) > 0
	}
}

// acceptsSDP reports whether the request's Accept header (absent means
// application/sdp, RFC 3261 §20.1) allows an SDP body in our answer.
func acceptsSDP(req *sip.Request) bool {
	hs := req.GetHeaders("Accept")
	if len(hs) == 0 {
		return true
	}
	empty := true
	for _, h := range hs {
		for _, v := range strings.Split(h.Value(), ",") {
			t, _, _ := strings.Cut(v, ";")
			t = strings.ToLower(strings.TrimSpace(t))
			if t == "" {
				continue
			}
			empty = false
			switch t {
			case "application/sdp", "application/*", "*/*":
				return true
			}
		}
	}
	return empty
}

// required lists the option tags of the request's Require headers.
func required(req *sip.Request) []string {
	var tags []string
	for _, h := range req.GetHeaders("Require") {
		for _, v := range strings.Split(h.Value(), ",") {
			if v = strings.TrimSpace(v); v != "" {
				tags = append(tags, v)
			}
		}
	}
	return tags
}
