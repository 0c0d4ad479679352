package main

// End-to-end tests of the helpdesk's outside edge: the webhooks. A real
// node delivers its outbox to a receiver on loopback that is down at first;
// every event arrives signed, once per id after de-duplication, in order
// per call, and what a stopped node had not delivered arrives from the next.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/webhooks"
)

// hookReceiver is a webhook endpoint that can be taken down: while down it
// answers 503 without looking at the request.
type hookReceiver struct {
	srv  *httptest.Server
	down atomic.Bool

	mu       sync.Mutex
	events   []webhooks.Received // verified and new, in arrival order
	refused  int                 // failed verification
	dups     int                 // verified repeats
	attempts int                 // requests while down
}

const hookSecret = "whsec_e2e_0123456789abcdef"

func startHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	recv := webhooks.NewReceiver(hookSecret, func(got webhooks.Received) {
		r.mu.Lock()
		defer r.mu.Unlock()
		switch {
		case !got.Verified:
			r.refused++
		case got.Duplicate:
			r.dups++
		default:
			r.events = append(r.events, got)
		}
	})
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.down.Load() {
			r.mu.Lock()
			r.attempts++
			r.mu.Unlock()
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		recv.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// config is the webhooks section pointing at the receiver.
func (r *hookReceiver) config() string {
	return fmt.Sprintf("webhooks:\n  - {name: helpdesk, url: %q, secret: %q}\n", r.srv.URL, hookSecret)
}

// topics returns the topics received for key, in arrival order.
func (r *hookReceiver) topics(key string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Event.Key == key {
			out = append(out, e.Event.Topic)
		}
	}
	return out
}

func (r *hookReceiver) count(topic string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Event.Topic == topic {
			n++
		}
	}
	return n
}

func (r *hookReceiver) waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	require.Eventually(t, ok, 30*time.Second, 50*time.Millisecond, what)
}

// The receiver is down for the first 5 s of an answered call: once it is
// back every event of the call arrives, verified, once, in order, and the
// auto-created ticket and the recording are announced too.
func TestWebhooksDeliverEveryEventAfterAnOutage(t *testing.T) {
	hooks := startHookReceiver(t)
	hooks.down.Store(true)
	downSince := time.Now()
	n := startTestNode(t, nodeOptions{extra: agentQueues + hooks.config()})
	anna := n.agent("anna")
	call := dialSupport(t, n, "")

	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	time.Sleep(time.Second)
	require.NoError(t, anna.Send(ctx, softphone.Hangup{CallID: ring.CallID}))
	callerHungUp(t, call)
	waitState(t, anna, softphone.StateWrapUp)
	require.NoError(t, anna.Send(ctx, softphone.WrapupDone{CallID: ring.CallID, Disposition: "resolved", Note: "fixed"}))

	time.Sleep(time.Until(downSince.Add(5 * time.Second)))
	hooks.mu.Lock()
	require.Positive(t, hooks.attempts, "the node tried while the receiver was down")
	require.Empty(t, hooks.events)
	hooks.mu.Unlock()
	hooks.down.Store(false)

	hooks.waitFor(t, "the call's events and its recording arrive", func() bool { return len(hooks.topics(ring.CallID)) >= 4 })
	got := hooks.topics(ring.CallID)
	require.Equal(t, []string{store.TopicCallRinging, store.TopicCallAnswered, store.TopicCallEnded},
		slices.DeleteFunc(slices.Clone(got), func(topic string) bool { return topic == store.TopicRecordingReady }),
		"the call's events in order")
	require.Contains(t, got, store.TopicRecordingReady, "the recording is announced, keyed by its call (when its file is finished, "+
		"which may come before or after the call's end is written)")
	require.Len(t, got, 4)
	hooks.waitFor(t, "the auto-created ticket is announced", func() bool { return hooks.count(store.TopicTicketCreated) == 1 })

	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	require.Zero(t, hooks.refused, "every delivery is signed with the endpoint's secret")
	var ids []string
	for _, e := range hooks.events {
		require.NotContains(t, ids, e.Event.ID, "no id twice after de-duplication")
		ids = append(ids, e.Event.ID)
	}
	var answered webhooks.Received
	for _, e := range hooks.events {
		if e.Event.Topic == store.TopicCallAnswered {
			answered = e
		}
	}
	require.Contains(t, string(answered.Event.Data), `"agent":"anna"`)
	require.Contains(t, string(answered.Event.Data), `"queue":"support"`)
}

// Events a node could not deliver before it stopped are delivered by the
// next node on the same store.
func TestWebhooksSurviveARestart(t *testing.T) {
	hooks := startHookReceiver(t)
	hooks.down.Store(true)
	data := t.TempDir()
	first := startTestNode(t, nodeOptions{extra: agentQueues + hooks.config(), dataDir: data})

	// Nobody answers billing: the caller hangs up in the queue, a missed
	// ticket is created.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := abandonBilling(t, first)
	require.Equal(t, "abandoned", d.Call.Outcome)
	require.Eventually(t, func() bool {
		ts, _, err := first.store.FindTickets(ctx, store.TicketFilter{Phone: d.Call.From})
		require.NoError(t, err)
		return len(ts) == 1 && ts[0].Missed
	}, 10*time.Second, 50*time.Millisecond, "the abandoned call leaves a missed ticket")
	require.NoError(t, first.Shutdown(ctx))
	hooks.mu.Lock()
	require.Empty(t, hooks.events)
	hooks.mu.Unlock()

	hooks.down.Store(false)
	startTestNode(t, nodeOptions{extra: agentQueues + hooks.config(), dataDir: data})
	hooks.waitFor(t, "the stopped node's events arrive from the next one", func() bool {
		return slices.Contains(hooks.topics(d.Call.ID), store.TopicCallEnded) && hooks.count(store.TopicTicketCreated) == 1
	})
	require.Equal(t, []string{store.TopicCallEnded}, hooks.topics(d.Call.ID), "no agent was rung: the call only ended")
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	require.Zero(t, hooks.refused)
}
