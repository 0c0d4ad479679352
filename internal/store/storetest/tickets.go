package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// runTickets is the contract of tickets and the webhook outbox.
func runTickets(t *testing.T, fresh func(t *testing.T) store.Store) {
	t.Run("TicketRoundTrip", func(t *testing.T) { testTicketRoundTrip(t, fresh(t)) })
	t.Run("TicketDefaults", func(t *testing.T) { testTicketDefaults(t, fresh(t)) })
	t.Run("TicketNumbersSequential", func(t *testing.T) { testTicketNumbers(t, fresh(t)) })
	t.Run("TicketChangesWriteOneMessageEach", func(t *testing.T) { testTicketMessages(t, fresh(t)) })
	t.Run("TicketAttachTwice", func(t *testing.T) { testTicketAttachTwice(t, fresh(t)) })
	t.Run("TicketNotFound", func(t *testing.T) { testTicketNotFound(t, fresh(t)) })
	t.Run("TicketRejected", func(t *testing.T) { testTicketRejected(t, fresh(t)) })
	t.Run("TicketSolvedAndFirstResponse", func(t *testing.T) { testTicketSolved(t, fresh(t)) })
	t.Run("TicketCallRecording", func(t *testing.T) { testTicketCallRecording(t, fresh(t)) })
	t.Run("FindTicketsFilters", func(t *testing.T) { testFindTicketsFilters(t, fresh(t)) })
	t.Run("FindTicketsPaginated", func(t *testing.T) { testFindTicketsPaginated(t, fresh(t)) })
	t.Run("FindTicketsBadCursor", func(t *testing.T) { testFindTicketsBadCursor(t, fresh(t)) })
	t.Run("TicketConcurrentChanges", func(t *testing.T) { testTicketConcurrent(t, fresh(t)) })
	t.Run("OutboxEventsPublishOnce", func(t *testing.T) { testOutboxEvents(t, fresh(t)) })
	t.Run("OutboxRecordingReadyOnce", func(t *testing.T) { testOutboxRecordingReady(t, fresh(t)) })
	t.Run("OutboxPerEndpoint", func(t *testing.T) { testOutboxEndpoints(t, fresh(t)) })
	t.Run("OutboxPrune", func(t *testing.T) { testOutboxPrune(t, fresh(t)) })
}

// SampleTicket returns an open ticket of the caller phone with every field
// set, one note and one linked call (callID), created at created.
func SampleTicket(phone, callID string, created time.Time) store.Ticket {
	first := created.Add(30 * time.Second)
	return store.Ticket{
		Status:          store.TicketOpen,
		Priority:        store.PriorityHigh,
		Subject:         "Роутер не включается",
		CallerNumber:    phone,
		CallerName:      "Иван Иванов",
		Product:         "HX-200",
		Serial:          "SN123456",
		Queue:           "tech",
		Assignee:        "anna",
		Missed:          true,
		CreatedAt:       created,
		UpdatedAt:       created.Add(time.Second),
		FirstResponseAt: &first,
		Notes:           []store.TicketNote{{At: created, Author: "anna", Text: "Caller says the LED blinks red"}},
		Calls:           []store.TicketCall{{CallID: callID, At: created, By: "anna"}},
	}
}

// NormalizedTicket is t as a store returns it after CreateTicket gave it
// number: UTC times at microsecond precision, non-nil notes and calls.
func NormalizedTicket(t store.Ticket, number int64) store.Ticket {
	micro := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	t.Number = number
	t.CreatedAt, t.UpdatedAt = micro(t.CreatedAt), micro(t.UpdatedAt)
	for _, p := range []**time.Time{&t.FirstResponseAt, &t.SolvedAt} {
		if *p != nil {
			v := micro(**p)
			*p = &v
		}
	}
	notes := []store.TicketNote{}
	for _, n := range t.Notes {
		n.At = micro(n.At)
		notes = append(notes, n)
	}
	calls := []store.TicketCall{}
	for _, c := range t.Calls {
		c.At = micro(c.At)
		calls = append(calls, c)
	}
	t.Notes, t.Calls = notes, calls
	return t
}

// allOutbox returns every message in the outbox for a fresh endpoint.
func allOutbox(t *testing.T, s store.Store) []store.OutboxMessage {
	t.Helper()
	msgs, err := s.PendingOutbox(t.Context(), "test-all", 0, store.MaxPageLimit)
	require.NoError(t, err)
	return msgs
}

// decodeTicket decodes a ticket.* payload.
func decodeTicket(t *testing.T, m store.OutboxMessage) store.Ticket {
	t.Helper()
	var tk store.Ticket
	require.NoError(t, json.Unmarshal(m.Payload, &tk), "payload %s", m.Payload)
	return tk
}

func ptr[T any](v T) *T { return &v }

func testTicketRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := SampleTicket("+74951234567", "c1", base)
	in.Number = 999 // ignored
	got, err := s.CreateTicket(ctx, in)
	require.NoError(t, err)
	require.Positive(t, got.Number)
	want := NormalizedTicket(in, got.Number)
	require.Equal(t, want, got)
	require.Equal(t, time.UTC, got.CreatedAt.Location(), "times come back in UTC")

	read, err := s.GetTicket(ctx, got.Number)
	require.NoError(t, err)
	require.Equal(t, want, read)

	found, next, err := s.FindTickets(ctx, store.TicketFilter{})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Equal(t, []store.Ticket{want}, found, "a found ticket equals the one read")

	nums, err := s.TicketsOfCall(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, []int64{got.Number}, nums)
	nums, err = s.TicketsOfCall(ctx, "no-such-call")
	require.NoError(t, err)
	require.Empty(t, nums)
}

func testTicketDefaults(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	got, err := s.CreateTicket(ctx, store.Ticket{Subject: "bare"})
	require.NoError(t, err)
	require.Equal(t, store.TicketNew, got.Status, "a ticket starts new")
	require.Equal(t, store.PriorityNormal, got.Priority, "at normal priority")
	require.WithinRange(t, got.CreatedAt, before, time.Now().Add(time.Second), "CreatedAt defaults to now")
	require.Equal(t, got.CreatedAt, got.UpdatedAt, "UpdatedAt defaults to CreatedAt")
	require.Nil(t, got.FirstResponseAt)
	require.Nil(t, got.SolvedAt)
	require.NotNil(t, got.Notes, "notes are an empty list, not null, also in the payload")
	require.NotNil(t, got.Calls)
	require.Empty(t, got.Notes)
	require.Empty(t, got.Calls)

	msgs := allOutbox(t, s)
	require.Len(t, msgs, 1)
	require.Contains(t, string(msgs[0].Payload), `"notes":[]`)
	require.Contains(t, string(msgs[0].Payload), `"calls":[]`)

	solved, err := s.CreateTicket(ctx, store.Ticket{Status: store.TicketSolved, CreatedAt: base})
	require.NoError(t, err)
	require.NotNil(t, solved.SolvedAt, "a ticket created solved is solved at its creation")
	require.Equal(t, base.UTC().Truncate(time.Microsecond), *solved.SolvedAt)
}

func testTicketNumbers(t *testing.T, s store.Store) {
	ctx := t.Context()
	var nums []int64
	for i := range 3 {
		tk, err := s.CreateTicket(ctx, SampleTicket(fmt.Sprintf("+7000%d", i), fmt.Sprintf("c%d", i), base))
		require.NoError(t, err)
		nums = append(nums, tk.Number)
	}
	require.Equal(t, []int64{nums[0], nums[0] + 1, nums[0] + 2}, nums, "numbers are sequential")
	// A refused create does not take a number either way visible to users,
	// and numbers never go backwards.
	_, err := s.CreateTicket(ctx, store.Ticket{Status: "bogus"})
	require.ErrorIs(t, err, store.ErrRejected)
	tk, err := s.CreateTicket(ctx, SampleTicket("+70009", "c9", base))
	require.NoError(t, err)
	require.Greater(t, tk.Number, nums[2], "a number is never reused")
	require.Equal(t, "T-000007", store.TicketKey(7))
	require.Equal(t, "T-1234567", store.TicketKey(1234567))
}

func testTicketMessages(t *testing.T, s store.Store) {
	ctx := t.Context()
	tk, err := s.CreateTicket(ctx, SampleTicket("+74951234567", "c1", base))
	require.NoError(t, err)
	var results []store.Ticket
	results = append(results, tk)
	at := base.Add(time.Minute)

	up, err := s.UpdateTicket(ctx, tk.Number, store.TicketChange{Status: ptr(store.TicketPending),
		Assignee: ptr("boris"), Missed: ptr(false)}, at)
	require.NoError(t, err)
	require.Equal(t, store.TicketPending, up.Status)
	require.Equal(t, "boris", up.Assignee)
	require.False(t, up.Missed)
	require.Equal(t, "HX-200", up.Product, "fields the change leaves nil stay")
	require.Equal(t, at.UTC().Truncate(time.Microsecond), up.UpdatedAt)
	results = append(results, up)

	noted, err := s.AddTicketNote(ctx, tk.Number, store.TicketNote{At: at.Add(time.Second), Author: "boris", Text: "called back"})
	require.NoError(t, err)
	require.Len(t, noted.Notes, 2)
	require.Equal(t, "called back", noted.Notes[1].Text, "notes oldest first")
	require.Equal(t, at.Add(time.Second).UTC().Truncate(time.Microsecond), noted.UpdatedAt)
	results = append(results, noted)

	attached, err := s.AttachCall(ctx, tk.Number, store.TicketCall{CallID: "c2", At: at.Add(2 * time.Second), By: "boris"})
	require.NoError(t, err)
	require.Len(t, attached.Calls, 2)
	require.Equal(t, "c2", attached.Calls[1].CallID, "calls oldest first")
	results = append(results, attached)

	detached, err := s.DetachCall(ctx, tk.Number, "c1", at.Add(3*time.Second))
	require.NoError(t, err)
	require.Len(t, detached.Calls, 1)
	require.Equal(t, "c2", detached.Calls[0].CallID)
	results = append(results, detached)

	got, err := s.GetTicket(ctx, tk.Number)
	require.NoError(t, err)
	require.Equal(t, detached, got, "what a change returns is what is stored")

	msgs := allOutbox(t, s)
	require.Len(t, msgs, len(results), "every change writes exactly one message")
	ids := map[string]bool{}
	for i, m := range msgs {
		want := store.TopicTicketUpdated
		if i == 0 {
			want = store.TopicTicketCreated
		}
		require.Equal(t, want, m.Topic, "message %d", i)
		require.Equal(t, store.TicketKey(tk.Number), m.Key)
		require.Equal(t, results[i].UpdatedAt, m.At, "a message is at its change's time")
		require.Equal(t, results[i], decodeTicket(t, m), "the payload is the ticket after change %d", i)
		require.False(t, ids[m.ID], "message ids are unique")
		ids[m.ID] = true
		if i > 0 {
			require.Greater(t, m.Seq, msgs[i-1].Seq, "seq follows the order of the changes")
		}
	}
}

func testTicketAttachTwice(t *testing.T, s store.Store) {
	ctx := t.Context()
	tk, err := s.CreateTicket(ctx, store.Ticket{Subject: "x", CreatedAt: base})
	require.NoError(t, err)
	first, err := s.AttachCall(ctx, tk.Number, store.TicketCall{CallID: "c1", At: base.Add(time.Minute)})
	require.NoError(t, err)
	again, err := s.AttachCall(ctx, tk.Number, store.TicketCall{CallID: "c1", At: base.Add(time.Hour), By: "anna"})
	require.NoError(t, err, "attaching a linked call again is not an error")
	require.Equal(t, first, again, "and changes nothing")
	require.Len(t, again.Calls, 1)
	require.Len(t, allOutbox(t, s), 2, "create and the first attach; the second writes no message")

	other, err := s.CreateTicket(ctx, store.Ticket{Subject: "y", CreatedAt: base})
	require.NoError(t, err)
	_, err = s.AttachCall(ctx, other.Number, store.TicketCall{CallID: "c1"})
	require.NoError(t, err, "one call may be linked to several tickets")
	nums, err := s.TicketsOfCall(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, []int64{tk.Number, other.Number}, nums)
}

func testTicketNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetTicket(ctx, 424242)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.UpdateTicket(ctx, 424242, store.TicketChange{Subject: ptr("x")}, base)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.AddTicketNote(ctx, 424242, store.TicketNote{Text: "x"})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.AttachCall(ctx, 424242, store.TicketCall{CallID: "c1"})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.DetachCall(ctx, 424242, "c1", base)
	require.ErrorIs(t, err, store.ErrNotFound)

	tk, err := s.CreateTicket(ctx, store.Ticket{Subject: "x", CreatedAt: base})
	require.NoError(t, err)
	_, err = s.DetachCall(ctx, tk.Number, "never-linked", base)
	require.ErrorIs(t, err, store.ErrNotFound, "detaching a call that is not linked")
	require.Len(t, allOutbox(t, s), 1, "failed changes write no message")
}

func testTicketRejected(t *testing.T, s store.Store) {
	ctx := t.Context()
	long := strings.Repeat("я", store.MaxTicketFieldLen+1)
	for name, tk := range map[string]store.Ticket{
		"status":   {Status: "reopened"},
		"priority": {Priority: "critical"},
		"subject":  {Subject: long},
		"NUL":      {CallerName: "evil\x00name"},
		"UTF-8":    {Product: "\xff\xfe"},
		"note":     {Notes: []store.TicketNote{{Text: ""}}},
		"call":     {Calls: []store.TicketCall{{CallID: ""}}},
	} {
		_, err := s.CreateTicket(ctx, tk)
		require.ErrorIs(t, err, store.ErrRejected, name)
	}
	_, err := s.CreateTicket(ctx, store.Ticket{Subject: strings.Repeat("я", store.MaxTicketFieldLen)})
	require.NoError(t, err, "a field of exactly the limit is fine")
	msgs := allOutbox(t, s)
	require.Len(t, msgs, 1)
	number := decodeTicket(t, msgs[0]).Number

	_, err = s.UpdateTicket(ctx, number, store.TicketChange{Status: ptr("reopened")}, base)
	require.ErrorIs(t, err, store.ErrRejected)
	_, err = s.UpdateTicket(ctx, number, store.TicketChange{Priority: ptr("")}, base)
	require.ErrorIs(t, err, store.ErrRejected)
	_, err = s.UpdateTicket(ctx, number, store.TicketChange{Serial: ptr(long)}, base)
	require.ErrorIs(t, err, store.ErrRejected)
	_, err = s.AddTicketNote(ctx, number, store.TicketNote{Text: ""})
	require.ErrorIs(t, err, store.ErrRejected)
	_, err = s.AddTicketNote(ctx, number, store.TicketNote{Text: strings.Repeat("x", store.MaxTicketNoteLen+1)})
	require.ErrorIs(t, err, store.ErrRejected)
	_, err = s.AttachCall(ctx, number, store.TicketCall{})
	require.ErrorIs(t, err, store.ErrRejected)
	require.Len(t, allOutbox(t, s), 1, "refused changes write no message")
	got, err := s.GetTicket(ctx, number)
	require.NoError(t, err)
	require.Equal(t, store.TicketNew, got.Status, "a refused change leaves the ticket alone")
}

func testTicketSolved(t *testing.T, s store.Store) {
	ctx := t.Context()
	micro := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	tk, err := s.CreateTicket(ctx, store.Ticket{Subject: "x", CreatedAt: base})
	require.NoError(t, err)

	responded := base.Add(time.Minute)
	tk, err = s.UpdateTicket(ctx, tk.Number, store.TicketChange{FirstResponseAt: &responded}, responded)
	require.NoError(t, err)
	require.Equal(t, micro(responded), *tk.FirstResponseAt)
	later := base.Add(time.Hour)
	tk, err = s.UpdateTicket(ctx, tk.Number, store.TicketChange{FirstResponseAt: &later}, later)
	require.NoError(t, err)
	require.Equal(t, micro(responded), *tk.FirstResponseAt, "FirstResponseAt is set only once")

	solvedAt := base.Add(2 * time.Hour)
	tk, err = s.UpdateTicket(ctx, tk.Number, store.TicketChange{Status: ptr(store.TicketSolved)}, solvedAt)
	require.NoError(t, err)
	require.Equal(t, micro(solvedAt), *tk.SolvedAt, "solved sets SolvedAt")
	tk, err = s.UpdateTicket(ctx, tk.Number, store.TicketChange{Status: ptr(store.TicketSolved)}, solvedAt.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, micro(solvedAt), *tk.SolvedAt, "solved again keeps the first SolvedAt")
	tk, err = s.UpdateTicket(ctx, tk.Number, store.TicketChange{Subject: ptr("y")}, solvedAt.Add(2*time.Hour))
	require.NoError(t, err)
	require.NotNil(t, tk.SolvedAt, "a change without a status keeps SolvedAt")

	tk, err = s.UpdateTicket(ctx, tk.Number, store.TicketChange{Status: ptr(store.TicketOpen)}, solvedAt.Add(3*time.Hour))
	require.NoError(t, err)
	require.Nil(t, tk.SolvedAt, "reopening clears SolvedAt")
	got, err := s.GetTicket(ctx, tk.Number)
	require.NoError(t, err)
	require.Nil(t, got.SolvedAt)

	tk, err = s.UpdateTicket(ctx, tk.Number, store.TicketChange{Status: ptr(store.TicketSolved)}, solvedAt.Add(4*time.Hour))
	require.NoError(t, err)
	require.Equal(t, micro(solvedAt.Add(4*time.Hour)), *tk.SolvedAt, "solved after a reopen is solved anew")
	tk, err = s.UpdateTicket(ctx, tk.Number, store.TicketChange{Status: ptr(store.TicketClosed)}, solvedAt.Add(5*time.Hour))
	require.NoError(t, err)
	require.Nil(t, tk.SolvedAt, "closed is not solved")
}

func testTicketCallRecording(t *testing.T, s store.Store) {
	ctx := t.Context()
	older := SampleRecording("rec-old", "c1", base)
	older.State = store.RecordingComplete
	newer := SampleRecording("rec-new", "c1", base.Add(time.Minute))
	newer.State = store.RecordingComplete
	require.NoError(t, s.SaveRecording(ctx, older))
	require.NoError(t, s.SaveRecording(ctx, newer))
	require.NoError(t, s.SaveRecording(ctx, SampleRecording("rec-other", "c3", base)))

	tk, err := s.CreateTicket(ctx, store.Ticket{Subject: "x", CreatedAt: base,
		Calls: []store.TicketCall{{CallID: "c1"}, {CallID: "c2", At: base.Add(time.Second)}}})
	require.NoError(t, err)
	require.Len(t, tk.Calls, 2)
	require.Equal(t, "rec-new", tk.Calls[0].RecordingID, "the call's newest recording")
	require.Empty(t, tk.Calls[1].RecordingID, "a call without a recording")
	msgs := allOutbox(t, s)
	require.Equal(t, "rec-new", decodeTicket(t, msgs[len(msgs)-1]).Calls[0].RecordingID,
		"the payload carries the recording id")

	newer.State = store.RecordingDeleted
	require.NoError(t, s.SaveRecording(ctx, newer))
	got, err := s.GetTicket(ctx, tk.Number)
	require.NoError(t, err)
	require.Equal(t, "rec-old", got.Calls[0].RecordingID, "a deleted recording is not shown")
	found, _, err := s.FindTickets(ctx, store.TicketFilter{})
	require.NoError(t, err)
	require.Equal(t, []store.Ticket{got}, found)

	// A recording made after the call was attached shows too.
	require.NoError(t, s.SaveRecording(ctx, SampleRecording("rec-c2", "c2", base)))
	got, err = s.GetTicket(ctx, tk.Number)
	require.NoError(t, err)
	require.Equal(t, "rec-c2", got.Calls[1].RecordingID)
}

// ticketSet creates the tickets of the filter and paging tests: phone,
// serial, status and queue vary; ticket "i" is changed last at base+at[i].
func ticketSet(t *testing.T, s store.Store, specs []ticketSpec) map[string]int64 {
	t.Helper()
	nums := map[string]int64{}
	for _, sp := range specs {
		tk, err := s.CreateTicket(t.Context(), store.Ticket{
			Subject: sp.name, CallerNumber: sp.phone, Serial: sp.serial, Status: sp.status, Queue: sp.queue,
			CreatedAt: base.Add(-time.Hour), UpdatedAt: base.Add(sp.at),
		})
		require.NoError(t, err)
		nums[sp.name] = tk.Number
	}
	return nums
}

type ticketSpec struct {
	name, phone, serial, status, queue string
	at                                 time.Duration
}

func ticketNames(ts []store.Ticket) []string {
	out := []string{}
	for _, tk := range ts {
		out = append(out, tk.Subject)
	}
	return out
}

func testFindTicketsFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	ticketSet(t, s, []ticketSpec{
		{"a", "+7001", "S1", store.TicketNew, "tech", 1 * time.Minute},
		{"b", "+7001", "S2", store.TicketSolved, "tech", 2 * time.Minute},
		{"c", "+7002", "S1", store.TicketOpen, "sales", 3 * time.Minute},
		{"d", "+7003", "", store.TicketPending, "", 4 * time.Minute},
		{"e", "+7001", "S1", store.TicketClosed, "sales", 5 * time.Minute},
	})
	for _, tc := range []struct {
		name string
		f    store.TicketFilter
		want []string
	}{
		{"all", store.TicketFilter{}, []string{"e", "d", "c", "b", "a"}},
		{"phone", store.TicketFilter{Phone: "+7001"}, []string{"e", "b", "a"}},
		{"serial", store.TicketFilter{Serial: "S1"}, []string{"e", "c", "a"}},
		{"statuses", store.TicketFilter{Statuses: []string{store.TicketNew, store.TicketOpen, store.TicketPending}},
			[]string{"d", "c", "a"}},
		{"queues", store.TicketFilter{Queues: []string{"sales", ""}}, []string{"e", "d", "c"}},
		{"phone and open", store.TicketFilter{Phone: "+7001", Statuses: []string{store.TicketNew, store.TicketOpen}},
			[]string{"a"}},
		{"serial and queue", store.TicketFilter{Serial: "S1", Queues: []string{"tech"}}, []string{"a"}},
		{"no match", store.TicketFilter{Phone: "+7999"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.FindTickets(ctx, tc.f)
			require.NoError(t, err)
			require.Empty(t, next)
			require.Equal(t, tc.want, ticketNames(got))
		})
	}
}

func testFindTicketsPaginated(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Four tickets share one change time (to the microsecond): the number
	// breaks the tie, and pages must not skip or repeat any of them.
	same := 2 * time.Minute
	nums := ticketSet(t, s, []ticketSpec{
		{"a", "+7001", "", "", "", time.Minute},
		{"b", "+7001", "", "", "", same},
		{"c", "+7001", "", "", "", same},
		{"d", "+7001", "", "", "", same + 200*time.Nanosecond},
		{"e", "+7002", "", "", "", same},
		{"f", "+7001", "", "", "", 3 * time.Minute},
		{"g", "+7001", "", "", "", -time.Hour},
	})
	require.Less(t, nums["b"], nums["c"])
	for _, tc := range []struct {
		f    store.TicketFilter
		want []string
	}{
		{store.TicketFilter{}, []string{"f", "e", "d", "c", "b", "a", "g"}},
		{store.TicketFilter{Phone: "+7001"}, []string{"f", "d", "c", "b", "a", "g"}},
	} {
		for _, limit := range []int{1, 2, 3, 7, 100} {
			t.Run(fmt.Sprintf("phone%q/limit%d", tc.f.Phone, limit), func(t *testing.T) {
				var got []string
				f := tc.f
				f.Limit = limit
				for page := 0; page < 20; page++ {
					ts, next, err := s.FindTickets(ctx, f)
					require.NoError(t, err)
					require.LessOrEqual(t, len(ts), limit)
					got = append(got, ticketNames(ts)...)
					if next == "" {
						break
					}
					require.NotEmpty(t, ts, "a page with a next cursor is never empty")
					f.Cursor = next
				}
				require.Equal(t, tc.want, got, "newest change first, ties by number, every ticket once")
			})
		}
	}
}

func testFindTicketsBadCursor(t *testing.T, s store.Store) {
	for _, c := range []string{"%%%", "bm90LWEtY3Vyc29y", "eDox", "MTIzOmFiYw"} { // the last is "123:abc"
		_, _, err := s.FindTickets(t.Context(), store.TicketFilter{Cursor: c})
		require.ErrorIs(t, err, store.ErrBadCursor, "cursor %q", c)
	}
}

func testTicketConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	tk, err := s.CreateTicket(ctx, store.Ticket{Subject: "busy", CreatedAt: base})
	require.NoError(t, err)
	const writers, perWriter = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*2)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				at := base.Add(time.Duration(w*perWriter+i) * time.Second)
				_, err := s.AddTicketNote(ctx, tk.Number, store.TicketNote{At: at, Text: fmt.Sprintf("w%d n%d", w, i)})
				errs <- err
				_, err = s.CreateTicket(ctx, store.Ticket{Subject: fmt.Sprintf("w%d t%d", w, i), CreatedAt: at})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := s.GetTicket(ctx, tk.Number)
	require.NoError(t, err)
	require.Len(t, got.Notes, writers*perWriter, "no note is lost")

	msgs := allOutbox(t, s)
	require.Len(t, msgs, 1+2*writers*perWriter, "one message per change")
	ids, numbers := map[string]bool{}, map[string]bool{}
	for _, m := range msgs {
		require.False(t, ids[m.ID], "message id %s is unique", m.ID)
		ids[m.ID] = true
		if m.Topic == store.TopicTicketCreated {
			require.False(t, numbers[m.Key], "ticket number %s is unique", m.Key)
			numbers[m.Key] = true
		}
	}
}

func testOutboxEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	batch := []store.Event{
		{CallID: "c1", Seq: 1, At: base, Kind: "invite", Publish: store.TopicCallRinging,
			Payload: json.RawMessage(`{"call_id":"c1","from":"+74951234567"}`)},
		{CallID: "c1", Seq: 2, At: base.Add(time.Second), Kind: "dtmf", Detail: "1"},
		{CallID: "c1", Seq: 3, At: base.Add(2 * time.Second), Kind: "connect", Publish: store.TopicCallAnswered,
			Payload: json.RawMessage(`{"call_id":"c1","agent":"anna"}`)},
		{CallID: "c2", Seq: 1, At: base, Kind: "bye", Publish: store.TopicCallEnded},
	}
	require.NoError(t, s.AppendEvents(ctx, batch))
	require.NoError(t, s.AppendEvents(ctx, batch), "a retried batch")
	require.NoError(t, s.AppendEvents(ctx, batch[2:3]), "a retried event")

	msgs := allOutbox(t, s)
	require.Len(t, msgs, 3, "one message per publishing event, however often it is written")
	for i, want := range []struct {
		id, topic, key, payload string
		at                      time.Time
	}{
		{"call:c1:1", store.TopicCallRinging, "c1", `{"call_id":"c1","from":"+74951234567"}`, base},
		{"call:c1:3", store.TopicCallAnswered, "c1", `{"call_id":"c1","agent":"anna"}`, base.Add(2 * time.Second)},
		{"call:c2:1", store.TopicCallEnded, "c2", `null`, base},
	} {
		m := msgs[i]
		require.Equal(t, want.id, m.ID)
		require.Equal(t, want.topic, m.Topic)
		require.Equal(t, want.key, m.Key)
		require.Equal(t, want.at.UTC().Truncate(time.Microsecond), m.At)
		require.JSONEq(t, want.payload, string(m.Payload))
		if i > 0 {
			require.Greater(t, m.Seq, msgs[i-1].Seq)
		}
	}
	_, events, err := s.GetCall(ctx, "c1")
	require.ErrorIs(t, err, store.ErrNotFound, "events without a call row are fine; GetCall needs the row")
	require.Empty(t, events)

	err = s.AppendEvents(ctx, []store.Event{
		{CallID: "c3", Seq: 1, At: base, Kind: "invite"},
		{CallID: "c3", Seq: 2, At: base, Kind: "x", Publish: store.TopicCallRinging, Payload: json.RawMessage(`{bad`)},
	})
	require.ErrorIs(t, err, store.ErrRejected, "a payload that is not JSON")
	require.Len(t, allOutbox(t, s), 3, "a refused batch writes nothing")
}

func testOutboxRecordingReady(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := SampleRecording("rec-1", "c1", base)
	r.State, r.EndedAt, r.SHA256 = store.RecordingActive, nil, ""
	require.NoError(t, s.SaveRecording(ctx, r))
	require.Empty(t, allOutbox(t, s), "a recording in progress is not ready")

	r = SampleRecording("rec-1", "c1", base)
	r.State = store.RecordingComplete
	require.NoError(t, s.SaveRecording(ctx, r))
	require.NoError(t, s.SaveRecording(ctx, r), "saved again")
	r.RetainUntil = nil
	require.NoError(t, s.SaveRecording(ctx, r), "saved again, changed")
	failed := SampleRecording("rec-2", "c2", base)
	failed.State = store.RecordingFailed
	require.NoError(t, s.SaveRecording(ctx, failed))
	require.NoError(t, s.SaveRecording(ctx, SampleRecording("rec-3", "c3", base)), "recovered")

	msgs := allOutbox(t, s)
	require.Len(t, msgs, 2, "recording.ready once per finished recording")
	m := msgs[0]
	require.Equal(t, "recording:rec-1:ready", m.ID)
	require.Equal(t, store.TopicRecordingReady, m.Topic)
	require.Equal(t, "c1", m.Key)
	require.Equal(t, r.UpdatedAt.UTC().Truncate(time.Microsecond), m.At)
	require.JSONEq(t, `{"recording_id":"rec-1","call_id":"c1","state":"complete","duration_ms":95000,
		"bytes":3040044,"sha256":"`+r.SHA256+`","queue":"tech","agents":["anna","boris"]}`, string(m.Payload))
	require.Equal(t, "recording:rec-3:ready", msgs[1].ID)
	require.Contains(t, string(msgs[1].Payload), `"state":"recovered"`)
}

func testOutboxEndpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	var batch []store.Event
	for seq := 1; seq <= 6; seq++ {
		batch = append(batch, store.Event{CallID: "c1", Seq: seq, At: base.Add(time.Duration(seq) * time.Second),
			Kind: "k", Publish: store.TopicCallRinging, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, seq))})
	}
	require.NoError(t, s.AppendEvents(ctx, batch))
	all, err := s.PendingOutbox(ctx, "a", 0, 0)
	require.NoError(t, err)
	require.Len(t, all, 6)

	for _, i := range []int{0, 2, 3} {
		require.NoError(t, s.MarkDelivered(ctx, "a", all[i].ID, base.Add(time.Hour)))
	}
	require.NoError(t, s.MarkDelivered(ctx, "a", all[0].ID, base.Add(2*time.Hour)), "marking twice is a no-op")
	require.NoError(t, s.MarkDelivered(ctx, "a", "no-such-message", base), "marking an unknown id is a no-op")
	require.ErrorIs(t, s.MarkDelivered(ctx, "", all[0].ID, base), store.ErrRejected)

	pendingIDs := func(endpoint string, after int64, limit int) []string {
		msgs, err := s.PendingOutbox(ctx, endpoint, after, limit)
		require.NoError(t, err)
		ids := []string{}
		for _, m := range msgs {
			ids = append(ids, m.ID)
		}
		return ids
	}
	require.Equal(t, []string{"call:c1:2", "call:c1:5", "call:c1:6"}, pendingIDs("a", 0, 10))
	require.Equal(t, []string{"call:c1:2", "call:c1:5"}, pendingIDs("a", 0, 2), "limit")
	require.Equal(t, []string{"call:c1:5", "call:c1:6"}, pendingIDs("a", all[1].Seq, 10), "after a seq")
	require.Len(t, pendingIDs("b", 0, 10), 6, "endpoints are independent")
	require.NoError(t, s.MarkDelivered(ctx, "b", all[5].ID, base))
	require.Len(t, pendingIDs("b", 0, 10), 5)
	require.Equal(t, []string{"call:c1:2", "call:c1:5", "call:c1:6"}, pendingIDs("a", 0, 10),
		"b's mark does not touch a")
	require.Empty(t, pendingIDs("a", all[5].Seq, 10))
}

func testOutboxPrune(t *testing.T, s store.Store) {
	ctx := t.Context()
	var batch []store.Event
	for seq := 1; seq <= 4; seq++ {
		batch = append(batch, store.Event{CallID: "c1", Seq: seq, At: base.Add(time.Duration(seq) * time.Hour),
			Kind: "k", Publish: store.TopicCallEnded})
	}
	require.NoError(t, s.AppendEvents(ctx, batch))
	all := allOutbox(t, s)
	require.Len(t, all, 4)
	require.NoError(t, s.MarkDelivered(ctx, "a", all[0].ID, base))
	require.NoError(t, s.MarkDelivered(ctx, "a", all[3].ID, base))

	n, err := s.PruneOutbox(ctx, base.Add(3*time.Hour)) // the messages at +1h and +2h
	require.NoError(t, err)
	require.Equal(t, 2, n)
	msgs, err := s.PendingOutbox(ctx, "a", 0, 10)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, "call:c1:3", msgs[0].ID)
	require.Len(t, allOutbox(t, s), 2)

	n, err = s.PruneOutbox(ctx, base.Add(3*time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "pruning again deletes nothing")

	require.NoError(t, s.AppendEvents(ctx, batch),
		"a batch retried after its messages were pruned: the events are stored, so nothing is published again")
	require.Len(t, allOutbox(t, s), 2)
}
