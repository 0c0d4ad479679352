package main

// End-to-end test of the reports: traffic with known timings through a real
// node (callers on the test phone, an agent on the pure-Go softphone), then
// every figure of GET /api/v1/stats against the value worked out by hand
// from those timings. Real time runs, so waits and talk times are checked
// to within a tolerance; counts and ratios exactly.

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/kpi"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/sip/siptest"
)

// statsReport is GET /api/v1/stats as JSON.
func (n *testNode) statsReport(query string) kpi.Report {
	n.t.Helper()
	var rep kpi.Report
	require.Equal(n.t, 200, n.getJSON("/api/v1/stats"+query, &rep))
	return rep
}

func queueStats(t *testing.T, rep kpi.Report, queue string) kpi.QueueStats {
	for _, q := range rep.Total.Queues {
		if q.Queue == queue {
			return q
		}
	}
	t.Fatalf("no figures for queue %s", queue)
	return kpi.QueueStats{}
}

func agentStats(t *testing.T, rep kpi.Report, agent string) kpi.AgentStats {
	for _, a := range rep.Total.Agents {
		if a.Agent == agent {
			return a
		}
	}
	t.Fatalf("no figures for agent %s", agent)
	return kpi.AgentStats{}
}

func value(t *testing.T, f kpi.Figure) float64 {
	t.Helper()
	require.NotNil(t, f.Value, "%s (%s) has no value", f.Key, f.Variant)
	return *f.Value
}

// Support: anna answers after about 2 s of ringing and talks for 3 s, then
// wraps up (1 s). Billing (nobody signed in): one caller gives up after
// about 2 s (a short abandon), another after about 7 s.
func TestReportsFromKnownTraffic(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dial := func(keys string) *siptest.PhoneCall {
		phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
		call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
		require.NoError(t, err)
		press(t, call, keys, media.SourceRFC4733)
		return call
	}

	// Answered: the ring is the caller's first moment in the queue (join_when_empty, anna ready).
	call := dial("11#")
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	time.Sleep(1500 * time.Millisecond) // under the 2 s ring timeout
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	time.Sleep(3 * time.Second)
	require.NoError(t, anna.Send(ctx, softphone.Hangup{CallID: ring.CallID}))
	callerHungUp(t, call)
	waitState(t, anna, softphone.StateWrapUp)
	waitState(t, anna, softphone.StateReady) // the 1 s wrap-up runs out

	// Abandoned, short and long.
	for _, hold := range []time.Duration{2 * time.Second, 7 * time.Second} {
		c := dial("12")
		hear(t, c, holdTone)
		time.Sleep(hold - time.Second) // hearing the music takes about a second of the wait
		require.NoError(t, c.Hangup(ctx))
		require.Equal(t, "abandoned", n.waitEnded(c.CallID()).Call.Outcome)
	}

	rep := n.statsReport("?queue=support,billing&sl_threshold=20")
	support := queueStats(t, rep, "support")
	require.Equal(t, 1.0, value(t, support.Offered))
	require.Equal(t, 1.0, value(t, support.Answered))
	require.Equal(t, 0.0, value(t, support.Abandoned))
	require.InDelta(t, 1.5, value(t, support.ASA), 0.8, "ASA: the 1.5 s of ringing, from enqueue")
	for _, sl := range []kpi.Figure{support.SLAnswered, support.SLDefault, support.SLWithAbandons, support.SLLeftQueue} {
		require.Equal(t, 1.0, value(t, sl), "service level %s: the one call was answered within 20 s", sl.Variant)
		require.Equal(t, 20.0, *sl.ThresholdS, "each SL names its T")
	}
	require.Equal(t, "b", support.SLDefault.Variant)
	require.Equal(t, 1.0, value(t, support.Handled))
	require.InDelta(t, 3.0, value(t, support.AvgTalk), 0.8, "talk: the 3 s between accept and hang-up")
	require.InDelta(t, 1.0, value(t, support.AvgWrapUp), 0.6, "wrap-up: the queue's 1 s")
	require.InDelta(t, value(t, support.AvgTalk)+value(t, support.AvgWrapUp)+value(t, support.AvgHold),
		value(t, support.AHT), 0.01, "AHT is talk + hold + wrap-up")

	billing := queueStats(t, rep, "billing")
	require.Equal(t, 2.0, value(t, billing.Offered))
	require.Equal(t, 0.0, value(t, billing.Answered))
	require.Equal(t, 2.0, value(t, billing.Abandoned))
	require.Equal(t, 1.0, value(t, billing.AbandonedShort), "the 2 s abandon is under the 5 s threshold")
	require.Nil(t, billing.SLAnswered.Value, "(a) answered within T ÷ answered: nothing answered, no value")
	require.Equal(t, 0.0, value(t, billing.SLDefault), "(b) 0 ÷ (0 + 1 abandon after 5 s)")
	require.Equal(t, 1.0, value(t, billing.SLWithAbandons), "(c) (0 + 2 abandoned within 20 s) ÷ 2")
	require.Equal(t, 1.0, value(t, billing.AbandonRate), "2 abandoned ÷ 2 offered")
	require.Equal(t, 1.0, value(t, billing.AbandonRateLong), "1 ÷ 1 without the short abandon")
	require.InDelta(t, 4.5, value(t, billing.AvgAbandonTime), 1.2, "(2 s + 7 s) ÷ 2")
	require.InDelta(t, 7.0, value(t, billing.MaxQueuedTime), 1.2)

	a := agentStats(t, rep, "anna")
	require.Equal(t, 1.0, value(t, a.Handled))
	require.InDelta(t, value(t, support.AHT), value(t, a.AHT), 0.01, "anna's AHT is the queue's: she took its only call")
	occ := value(t, a.Occupancy)
	require.Greater(t, occ, 0.0)
	require.LessOrEqual(t, occ, 1.0)
}
