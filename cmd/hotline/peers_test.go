package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/baresiptest"
	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/sipptest"
)

// SIPp, a real SIP peer, navigates the demo menu with RFC 4733 digits from
// pcaps while streaming audio, waits in the queue and hangs up.
func TestSIPpCallerNavigatesMenu(t *testing.T) {
	n := startTestNode(t, nodeOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := sipptest.Run(ctx, sipptest.Options{
		Scenario: "../../internal/sipptest/testdata/ivr_caller.xml",
		Target:   n.SIPAddr().String(),
		Service:  "support",
		Calls:    3, Concurrency: 3, Rate: 10,
		Keys:    map[string]string{"hold": "2000"},
		Timeout: 45 * time.Second,
	})
	require.NoError(t, err)
	require.NoError(t, res.Err(), "sipp: %s", res.ErrorLog)
	require.Equal(t, 3, res.Successful)

	var list struct{ Calls []httpapi.CallJSON }
	n.getJSON("/api/v1/calls", &list)
	require.Len(t, list.Calls, 3)
	for _, c := range list.Calls {
		d := n.waitEnded(c.SIPCallID).Call
		require.Equal(t, "queued", d.Outcome)
		require.Equal(t, "support", d.Queue)
		require.Equal(t, "11#", d.Digits)
		require.Equal(t, "caller", d.HangupSide)
	}
}

// baresip, a second real SIP phone, dials the hotline, picks English and
// billing with RFC 4733 digits, waits in the queue and hangs up.
func TestBaresipCaller(t *testing.T) {
	n := startTestNode(t, nodeOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := baresiptest.Call(ctx, baresiptest.Options{
		Target:   n.uri("support"),
		Digits:   "12",
		DigitGap: 700 * time.Millisecond,
		Hold:     1500 * time.Millisecond,
	})
	require.NoError(t, err, res.Log)
	require.True(t, res.Established, res.Log)
	require.Equal(t, "12", res.Sent)

	c := n.waitEnded(res.CallID).Call
	require.Equal(t, "queued", c.Outcome)
	require.Equal(t, "billing", c.Queue)
	require.Equal(t, "12", c.Digits)
	require.Equal(t, "caller", c.HangupSide, "baresip hung up")
}
