package web_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// The banner shows the number and name the trunk asserted (the ring's
// caller, no ticket needed), grouped for reading: +1 and +7 numbers, the
// same digits without the plus, and Russia's national 8 prefix; other
// numbers and SIP user names as they came.
func TestAgentBannerAssertedCaller(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})
	b := newBackend(t)
	p := br.NewPage(t)
	c := signIn(t, p, b, welcome(softphone.StateReady))
	p.WaitText("#state", "Ready")

	for i, tc := range []struct{ number, name, shown string }{
		{"+79123456789", "Pat Doe", "+7 912 345-67-89"},
		{"79123456789", "", "+7 912 345-67-89"},
		{"89123456789", "", "8 912 345-67-89"},
		{"15551234567", "Sam Roe", "+1 555 123 4567"},
		{"+442079460958", "", "+442079460958"},
		{"caller1", "SIPp caller", "caller1"},
	} {
		id := "call-" + tc.number
		r := ring(id)
		r.Tickets = []softphone.Ticket{}
		r.From = tc.number
		r.Caller = &softphone.Caller{Number: tc.number, Name: tc.name}
		c.send(t, r)
		p.WaitVisible("#ring")
		p.WaitText("#ring-from", tc.shown)
		require.Equal(t, tc.shown, p.Text("#ring-from"), "case %d", i)
		require.Equal(t, tc.name, p.Text("#ring-name"), "case %d", i)
		if tc.name != "" {
			require.Contains(t, browsertest.Eval[string](p, `document.title`), tc.name)
		}
		c.send(t, softphone.RingCancel{CallID: id, Reason: "taken"})
		p.WaitHidden("#ring")
	}
}
