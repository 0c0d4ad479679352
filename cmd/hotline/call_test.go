package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/sip/siptest"
)

// A caller goes through the whole demo menu in Russian, pressing keys by each
// of the three DTMF methods, reaches the support queue's hold music and hangs
// up; the call row says so.
func TestDemoMenuWithEachDTMFMethod(t *testing.T) {
	n := startTestNode(t, nodeOptions{})
	for _, how := range []media.DigitSource{media.SourceRFC4733, media.SourceINFO, media.SourceInband} {
		t.Run(string(how), func(t *testing.T) {
			o := siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101}
			if how == media.SourceInband {
				o.DTMFType = 0 // no telephone-event: the trunk's "auto" turns in-band detection on
				o.Codecs = []media.Codec{media.PCMA}
			}
			phone := newPhone(t, o)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
			require.NoError(t, err)

			hear(t, call, toneOf["welcome"])
			hear(t, call, toneOf["choose-language"])
			press(t, call, "2", how) // Русский
			hear(t, call, toneOf["main-menu"]+ruShift)
			press(t, call, "1", how) // technical support
			hear(t, call, toneOf["enter-serial"]+ruShift)
			press(t, call, testSerial+"#", how)
			hear(t, call, toneOf["you-entered"]+ruShift)
			hear(t, call, digitTone)
			hear(t, call, toneOf["confirm-entry"]+ruShift)
			press(t, call, "1", how) // that is right
			hear(t, call, toneOf["connecting"]+ruShift)
			hear(t, call, holdTone)
			require.NoError(t, call.Hangup(ctx))

			d := n.waitEnded(call.CallID())
			c := d.Call
			require.Equal(t, "queued", c.Outcome)
			require.Equal(t, "support", c.Queue)
			require.Equal(t, "ru", c.Language)
			require.Equal(t, testSerial, c.Vars["serial"])
			require.Equal(t, "21"+testSerial+"#1", c.Digits)
			require.Equal(t, "caller", c.HangupSide)
			require.Equal(t, "bye", c.HangupCause)
			require.Equal(t, "test", c.Trunk)
			require.NotNil(t, c.AnsweredAt)
			require.Contains(t, c.IVRPath, "enter-serial")
			var digits int
			for _, e := range d.Events {
				if e.Kind == "digit" {
					require.Contains(t, e.Detail, string(how), "each digit names its source")
					digits++
				}
			}
			require.Equal(t, len("21"+testSerial+"#1"), digits, "every key press is one event, never two")
		})
	}
	require.Equal(t, "12", n.metric(`hotline_dtmf_digits_total{source="inband"}`))
	require.Equal(t, "12", n.metric(`hotline_dtmf_digits_total{source="info"}`))
	require.Equal(t, "12", n.metric(`hotline_dtmf_digits_total{source="rfc4733"}`))
	require.Equal(t, "3", n.metric(`hotline_calls_total{outcome="queued"}`))
	require.Equal(t, "0", n.metric(`hotline_calls_active`))
}

// Callers who know the menu dial ahead: keys pressed during the welcome are
// kept, and the caller lands in the queue without hearing the menus.
func TestTypeAheadDuringWelcome(t *testing.T) {
	n := startTestNode(t, nodeOptions{})
	phone := newPhone(t, siptest.PhoneOptions{Transport: "tcp", Codecs: []media.Codec{media.PCMA, media.PCMU}, DTMFType: 101})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	require.Equal(t, media.PCMA, call.Codec(), "the caller's preferred codec is chosen")
	hear(t, call, toneOf["welcome"])
	press(t, call, "12", media.SourceRFC4733) // English, billing
	hear(t, call, holdTone)
	require.NoError(t, call.Hangup(ctx))
	c := n.waitEnded(call.CallID()).Call
	require.Equal(t, "billing", c.Queue)
	require.NotContains(t, c.IVRPath, "enter-serial")
}

// Three wrong choices: the hotline says goodbye and hangs up itself.
func TestHotlineHangsUpAfterInvalidChoices(t *testing.T) {
	n := startTestNode(t, nodeOptions{})
	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	hear(t, call, toneOf["choose-language"])
	press(t, call, "1", media.SourceRFC4733)
	for i := 0; i < 3; i++ {
		hear(t, call, toneOf["main-menu"])
		press(t, call, "9", media.SourceRFC4733)
		hear(t, call, toneOf["invalid"])
	}
	hear(t, call, toneOf["goodbye"])
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("the hotline never sent BYE")
	}
	c := n.waitEnded(call.CallID()).Call
	require.Equal(t, "ivr-hangup", c.Outcome)
	require.Equal(t, "hotline", c.HangupSide)
	require.Equal(t, "999", c.Digits[1:])
}

// A caller who hangs up during the welcome is recorded as abandoned in the IVR.
func TestCallerHangsUpInIVR(t *testing.T) {
	n := startTestNode(t, nodeOptions{})
	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	hear(t, call, toneOf["welcome"])
	require.NoError(t, call.Hangup(ctx))
	d := n.waitEnded(call.CallID())
	require.Equal(t, "ivr-abandoned", d.Call.Outcome)
	require.Equal(t, "caller", d.Call.HangupSide)
	kinds := []string{}
	for _, e := range d.Events {
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, "arrived", kinds[0])
	require.Equal(t, "ended", kinds[len(kinds)-1])
}
