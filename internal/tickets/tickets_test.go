package tickets_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/store/pgtest"
	"github.com/hotline/hotline/internal/tickets"
)

// Every test runs on the embedded SQLite store and on a real PostgreSQL.
func eachStore(t *testing.T, run func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir()}, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		require.NoError(t, st.Migrate(t.Context()))
		run(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		pg := pgtest.Start(t)
		st, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir(), Database: pg.CreateDB(t)}, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		require.NoError(t, st.Migrate(t.Context()))
		run(t, st)
	})
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// service starts a Service whose worker signals every finished summary.
func service(t *testing.T, st store.Store, clk *clock) (*tickets.Service, chan struct{}) {
	changed := make(chan struct{}, 100)
	s := tickets.New(st, tickets.Options{Now: clk.Now, OnChange: func() { changed <- struct{}{} }})
	s.Start()
	t.Cleanup(s.Close)
	return s, changed
}

func waitChange(t *testing.T, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the ticket worker did nothing")
	}
}

func call(id, from, queue, serial string, at time.Time) store.Call {
	queued, ended := at, at.Add(47*time.Second)
	return store.Call{ID: id, From: from, Queue: queue, ArrivedAt: at.Add(-20 * time.Second),
		QueuedAt: &queued, EndedAt: &ended, Vars: map[string]string{"serial": serial}}
}

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]int64{"T-000123": 123, "t-7": 7, "T42": 42, "000123": 123, " 9 ": 9} {
		got, err := tickets.ParseNumber(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "T-", "0", "-5", "12a", "T--1", "99999999999999999999", "１２"} {
		_, err := tickets.ParseNumber(in)
		require.ErrorIs(t, err, tickets.ErrBadNumber, in)
	}
	require.Equal(t, "T-000123", tickets.FormatNumber(123))
	require.Equal(t, "T-1234567", tickets.FormatNumber(1234567))
}

// A caller who hangs up in the queue leaves a missed ticket with the call;
// their next missed call joins that ticket instead of opening another.
func TestMissedCallsMakeOneTicketPerCaller(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		clk := &clock{t: t0}
		s, changed := service(t, st, clk)

		s.CallEnded(call("c1", "1001", "support", "4242424242424242", t0), tickets.MissedAbandoned)
		waitChange(t, changed)
		found, _, err := st.FindTickets(t.Context(), store.TicketFilter{Phone: "1001"})
		require.NoError(t, err)
		require.Len(t, found, 1)
		tk := found[0]
		require.True(t, tk.Missed)
		require.Equal(t, store.TicketNew, tk.Status)
		require.Equal(t, "support", tk.Queue)
		require.Equal(t, "4242424242424242", tk.Serial)
		require.Contains(t, tk.Subject, "Missed")
		require.Len(t, tk.Calls, 1)
		require.Equal(t, "c1", tk.Calls[0].CallID)
		require.Len(t, tk.Notes, 1)
		require.Contains(t, tk.Notes[0].Text, "47s")

		clk.Add(time.Hour)
		s.CallEnded(call("c2", "1001", "support", "", t0.Add(time.Hour)), tickets.MissedAfterHours)
		waitChange(t, changed)
		got, err := st.GetTicket(t.Context(), tk.Number)
		require.NoError(t, err)
		require.Len(t, got.Calls, 2, "the second missed call joins the open ticket")
		require.Len(t, got.Notes, 2)
		require.Contains(t, got.Notes[1].Text, "after hours")
		all, _, err := st.FindTickets(t.Context(), store.TicketFilter{})
		require.NoError(t, err)
		require.Len(t, all, 1)

		// An answered call's summary with no missed reason makes nothing.
		s.CallEnded(call("c3", "1002", "support", "", t0), "")
		require.Eventually(t, func() bool { return len(changed) == 0 }, time.Second, 10*time.Millisecond)
		other, _, err := st.FindTickets(t.Context(), store.TicketFilter{Phone: "1002"})
		require.NoError(t, err)
		require.Empty(t, other)
	})
}

// An answered call nobody linked gets a ticket at the end of wrap-up, with
// the agent's note; a linked call gets none.
func TestWrapupWithoutTicketCreatesOne(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		clk := &clock{t: t0}
		s, changed := service(t, st, clk)
		connected := t0.Add(-time.Minute)

		c := call("c1", "1001", "support", "", t0)
		c.Agent, c.Note, c.Disposition, c.ConnectedAt = "anna", "router reset", "resolved", &connected
		s.WrapupEnded(c)
		waitChange(t, changed)
		found, _, err := st.FindTickets(t.Context(), store.TicketFilter{Phone: "1001"})
		require.NoError(t, err)
		require.Len(t, found, 1)
		tk := found[0]
		require.Equal(t, store.TicketSolved, tk.Status, "a resolved call's ticket is solved")
		require.NotNil(t, tk.SolvedAt)
		require.Equal(t, "anna", tk.Assignee)
		require.Equal(t, "Call to support", tk.Subject)
		require.Len(t, tk.Notes, 1)
		require.Equal(t, "anna", tk.Notes[0].Author)
		require.Equal(t, "router reset", tk.Notes[0].Text)
		require.NotNil(t, tk.FirstResponseAt)
		require.True(t, tk.FirstResponseAt.Equal(connected))
		require.False(t, tk.Missed)

		// The agent attached call c2 to that ticket during the call.
		anna := tickets.Viewer{User: "anna", Queues: []string{"support"}}
		_, err = s.Attach(t.Context(), anna, tk.Number, "c2")
		require.NoError(t, err)
		c2 := call("c2", "1001", "support", "", t0)
		c2.Agent = "anna"
		s.WrapupEnded(c2)
		waitChange(t, changed)
		all, _, err := st.FindTickets(t.Context(), store.TicketFilter{})
		require.NoError(t, err)
		require.Len(t, all, 1, "a linked call makes no second ticket")
		require.Equal(t, store.TicketOpen, all[0].Status, "attaching a call reopens a solved ticket")
		require.Len(t, all[0].Calls, 2)
	})
}

// The screen pop shows the caller's open tickets by phone and by serial,
// newest first, at most five; solved and closed ones are left out.
func TestScreenPop(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		clk := &clock{t: t0}
		s, _ := service(t, st, clk)
		sup := tickets.Viewer{User: "sam", Supervisor: true}
		mk := func(subject, phone, serial, status string) int64 {
			clk.Add(time.Minute)
			tk, err := s.Create(ctx, sup, tickets.NewTicket{Subject: subject, CallerNumber: phone, Serial: serial, Status: status})
			require.NoError(t, err)
			return tk.Number
		}
		for i := range 6 {
			mk(fmt.Sprintf("phone %d", i), "1001", "", store.TicketOpen)
		}
		mk("solved", "1001", "", store.TicketSolved)
		bySerial := mk("by serial", "2002", "4242424242424242", store.TicketPending)
		mk("someone else", "3003", "", store.TicketNew)

		pop, err := s.ScreenPop(ctx, "1001", "4242424242424242")
		require.NoError(t, err)
		require.Len(t, pop, tickets.ScreenPopLimit)
		require.Equal(t, bySerial, pop[0].Number, "the newest first: matched by serial")
		require.Equal(t, "phone 5", pop[1].Subject)
		require.Equal(t, "phone 2", pop[4].Subject)
		for _, tk := range pop {
			require.True(t, tickets.Open(tk.Status))
		}
		none, err := s.ScreenPop(ctx, "9999", "")
		require.NoError(t, err)
		require.Empty(t, none)
	})
}

// The IVR reads a ticket only to the phone it was opened from; another
// caller and an unknown number hear the same "not found".
func TestTicketStatusForTheIVR(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		clk := &clock{t: t0}
		s, _ := service(t, st, clk)
		tk, err := s.Create(ctx, tickets.Viewer{User: "sam", Supervisor: true},
			tickets.NewTicket{Subject: "router", CallerNumber: "1001", Status: store.TicketPending})
		require.NoError(t, err)

		got, ok, err := s.TicketStatus(ctx, fmt.Sprint(tk.Number), "1001")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, store.TicketPending, got.Status)
		require.True(t, got.Updated.Equal(t0))

		for _, probe := range [][2]string{{fmt.Sprint(tk.Number), "2002"}, {"999", "1001"}, {"12x", "1001"}, {fmt.Sprint(tk.Number), ""}} {
			_, ok, err := s.TicketStatus(ctx, probe[0], probe[1])
			require.NoError(t, err)
			require.False(t, ok, "%v", probe)
		}
	})
}

// Agents see their queues' tickets and those of the caller on their line;
// supervisors see all; bad values are refused with a clear error.
func TestAgentsSeeTheirQueues(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		clk := &clock{t: t0}
		s, _ := service(t, st, clk)
		sup := tickets.Viewer{User: "sam", Supervisor: true}
		billing, err := s.Create(ctx, sup, tickets.NewTicket{Subject: "refund", Queue: "billing", CallerNumber: "1001"})
		require.NoError(t, err)
		require.Nil(t, billing.FirstResponseAt, "a supervisor's ticket waits for an agent's response")

		boris := tickets.Viewer{User: "boris", Queues: []string{"support"}}
		_, err = s.Get(ctx, boris, billing.Number)
		require.ErrorIs(t, err, tickets.ErrForbidden)
		_, err = s.AddNote(ctx, boris, billing.Number, "hi")
		require.ErrorIs(t, err, tickets.ErrForbidden)
		list, _, err := s.Find(ctx, boris, store.TicketFilter{Phone: "1001"})
		require.NoError(t, err)
		require.Empty(t, list)

		boris.Caller = "1001" // the caller is on boris's line now
		list, _, err = s.Find(ctx, boris, store.TicketFilter{Phone: "1001"})
		require.NoError(t, err)
		require.Len(t, list, 1)
		clk.Add(time.Minute)
		noted, err := s.AddNote(ctx, boris, billing.Number, "called back about the refund")
		require.NoError(t, err)
		require.NotNil(t, noted.FirstResponseAt, "the agent's note is the first response")
		require.True(t, noted.FirstResponseAt.Equal(t0.Add(time.Minute)))
		require.Equal(t, "boris", noted.Notes[0].Author)

		mine, err := s.Create(ctx, tickets.Viewer{User: "anna", Queues: []string{"support"}}, tickets.NewTicket{Subject: "new one"})
		require.NoError(t, err)
		require.Equal(t, "support", mine.Queue, "an agent's ticket goes to their queue")
		require.Equal(t, "anna", mine.Assignee)
		billingQ, nobody := "billing", ""
		_, err = s.Update(ctx, tickets.Viewer{User: "anna", Queues: []string{"support"}}, mine.Number,
			store.TicketChange{Queue: &billingQ, Assignee: &nobody})
		require.ErrorIs(t, err, tickets.ErrForbidden, "an agent cannot move a ticket out of their reach")

		_, err = s.Create(ctx, sup, tickets.NewTicket{Subject: ""})
		require.ErrorIs(t, err, tickets.ErrInvalid)
		_, err = s.Create(ctx, sup, tickets.NewTicket{Subject: "x", Status: "done"})
		require.ErrorContains(t, err, `status "done"`)
		bad := "urgentest"
		_, err = s.Update(ctx, sup, mine.Number, store.TicketChange{Priority: &bad})
		require.ErrorContains(t, err, `priority "urgentest"`)
		_, err = s.Get(ctx, sup, 424242)
		require.ErrorIs(t, err, store.ErrNotFound)
		solved := store.TicketSolved
		upd, err := s.Update(ctx, sup, mine.Number, store.TicketChange{Status: &solved})
		require.NoError(t, err)
		require.NotNil(t, upd.SolvedAt)
	})
}

// Close works off the summaries already queued, and refuses later ones
// without blocking.
func TestCloseWorksOffTheBacklog(t *testing.T) {
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()}, nil)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(t.Context()))
	s := tickets.New(st, tickets.Options{})
	s.Start()
	for i := range 20 {
		s.CallEnded(call(fmt.Sprintf("c%d", i), fmt.Sprintf("10%02d", i), "support", "", t0), tickets.MissedAbandoned)
	}
	s.Close()
	s.Close()
	s.CallEnded(call("late", "1999", "support", "", t0), tickets.MissedAbandoned)
	all, _, err := st.FindTickets(t.Context(), store.TicketFilter{Limit: 100})
	require.NoError(t, err)
	require.Len(t, all, 20)
}
