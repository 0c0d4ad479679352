package switchboard

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/softphone"
)

// noPhones is a hub where nobody has a softphone.
type noPhones struct{}

func (noPhones) Send(string, softphone.Message) error { return nil }
func (noPhones) Leg(string) (*softphone.Leg, error)   { return nil, errors.New("no legs here") }

// newTestDesk runs a desk over an ACD with one queue answered by anna.
func newTestDesk(t *testing.T) *Desk {
	t.Helper()
	a, err := acd.New(acd.Config{Queues: []acd.QueueConfig{{
		Name: "support", Members: []acd.Member{{Agent: "anna"}}, JoinWhenEmpty: true,
	}}}, acd.Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Run(ctx) })
	d := NewDesk(a, []string{"break"}, nil)
	d.SetPhones(noPhones{})
	wg.Go(d.Run)
	t.Cleanup(func() { cancel(); wg.Wait() })
	return d
}

// The desk refuses what no call goroutine could do: a bad mode, a call it
// does not know, a call no agent is on, a supervisor with no softphone.
// Taking a supervisor off a call they are not on is no error.
func TestMonitorRefusals(t *testing.T) {
	d := newTestDesk(t)
	ctx := t.Context()
	require.ErrorIs(t, d.Monitor(ctx, "c1", "sam", "spy"), ErrMonitorMode)
	require.ErrorIs(t, d.Monitor(ctx, "nope", "sam", softphone.MonitorListen), ErrNoCall)
	require.ErrorIs(t, d.Monitor(ctx, "nope", "sam", softphone.MonitorOff), ErrNoCall)

	qc := d.join(softphone.Ring{From: "1001", Queue: "support"}, acd.Input{Kind: acd.CallQueued, Call: "c1", Queue: "support"}, nil, nil)
	require.ErrorIs(t, d.Monitor(ctx, "c1", "sam", softphone.MonitorListen), ErrNotBridged, "the call waits in the queue")
	require.NoError(t, d.Monitor(ctx, "c1", "sam", softphone.MonitorOff), "sam is not on the call: nothing to stop")

	d.mu.Lock()
	qc.agent = "anna" // as the Connected decision sets it
	d.mu.Unlock()
	require.ErrorIs(t, d.Monitor(ctx, "c1", "sam", softphone.MonitorBarge), ErrNoSoftphone)
	require.ErrorIs(t, d.Monitor(ctx, "c1", "anna", softphone.MonitorListen), ErrMonitorBusy, "anna's own call")
	require.Empty(t, qc.commands, "nothing reached the call")

	d.leave(qc, "caller")
	require.ErrorIs(t, d.Monitor(ctx, "c1", "sam", softphone.MonitorListen), ErrNoCall)
}

// A monitor command the call goroutine never takes (the call ended first)
// answers ErrNoCall at once.
func TestMonitorCallEndsBeforeTheCommand(t *testing.T) {
	d := newTestDesk(t)
	qc := d.join(softphone.Ring{From: "1001", Queue: "support"}, acd.Input{Kind: acd.CallQueued, Call: "c1", Queue: "support"}, nil, nil)
	d.mu.Lock()
	qc.agent, qc.monitor = "anna", "sam" // sam is on the call: off goes to its goroutine
	d.monitors["sam"] = "c1"
	d.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(50 * time.Millisecond)
		d.leave(qc, "caller")
	})
	require.ErrorIs(t, d.Monitor(t.Context(), "c1", "sam", softphone.MonitorOff), ErrNoCall)
	wg.Wait()
	require.False(t, d.monitoring("sam"), "the call's end released its supervisor")
}

// A user who is a member of no queue (a supervisor's softphone) is no
// agent: signed out, no transfer targets, nothing for the ACD; a member's
// welcome is as it always was.
func TestAttachedSupervisorIsNoAgent(t *testing.T) {
	d := newTestDesk(t)
	ctx := t.Context()
	w, err := d.Attached(ctx, "sam")
	require.NoError(t, err)
	require.Equal(t, softphone.StateSignedOut, w.State)
	require.True(t, w.NoQueue, "the page tells them why they cannot go ready")
	require.Empty(t, w.Queues)
	require.Empty(t, w.Agents)
	require.Nil(t, w.Monitor)

	w, err = d.Attached(ctx, "anna")
	require.NoError(t, err)
	require.Equal(t, softphone.StateNotReady, w.State)
	require.False(t, w.NoQueue)
	require.Equal(t, []string{"support"}, w.Queues)

	snap, err := d.Snapshot(ctx)
	require.NoError(t, err)
	var ids []string
	for _, a := range snap.Agents {
		ids = append(ids, a.Agent)
	}
	require.Equal(t, []string{"anna"}, ids, "sam never signed in to the ACD")
}
