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

// quickAgent is an agent's browser that accepts every ring the moment it
// arrives, from inside the desk's send: as fast as any browser can be.
type quickAgent struct {
	desk     *Desk
	accepted chan error
}

func (q *quickAgent) Send(agent string, m softphone.Message) error {
	if r, ok := m.(softphone.Ring); ok {
		q.accepted <- q.desk.Command(context.Background(), agent, softphone.Accept{CallID: r.CallID})
	}
	return nil
}

func (q *quickAgent) Leg(string) (*softphone.Leg, error) { return nil, errors.New("no legs here") }

// An agent who accepts a ring at once is connected: the desk knows the offer
// is theirs before the ring reaches the browser.
func TestDeskAcceptRightAfterTheRing(t *testing.T) {
	a, err := acd.New(acd.Config{Queues: []acd.QueueConfig{{
		Name: "support", Members: []acd.Member{{Agent: "anna"}}, JoinWhenEmpty: true,
	}}}, acd.Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	d := NewDesk(a, nil, nil)
	phones := &quickAgent{desk: d, accepted: make(chan error, 1)}
	d.SetPhones(phones)
	wg.Go(d.Run)

	_, err = d.Attached(ctx, "anna")
	require.NoError(t, err)
	require.NoError(t, d.Command(ctx, "anna", softphone.Ready{}))
	qc := d.join(softphone.Ring{From: "1001"}, acd.Input{Kind: acd.CallQueued, Call: "c1", Queue: "support"}, nil, nil)

	select {
	case err := <-phones.accepted:
		require.NoError(t, err, "the agent's accept of their own ring")
	case <-time.After(10 * time.Second):
		t.Fatal("the agent was never rung")
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-qc.decisions.ready():
			dec, _ := qc.decisions.take()
			if dec.Kind == acd.Connected {
				require.Equal(t, "anna", dec.Agent)
				return
			}
		case <-deadline:
			t.Fatal("the call was not connected to the agent")
		}
	}
}
