package ivr_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotline/hotline/ivr"
	"github.com/stretchr/testify/require"
)

// fakeTickets answers ticket lookups with one fixed reply and records the
// questions ("number caller"). Run calls it from its own goroutine only.
type fakeTickets struct {
	status ivr.TicketStatus
	found  bool
	err    error
	asked  []string
}

func (f *fakeTickets) TicketStatus(_ context.Context, number, caller string) (ivr.TicketStatus, bool, error) {
	f.asked = append(f.asked, number+" "+caller)
	return f.status, f.found, f.err
}

const ticketFlow = `
start: ask
nodes:
  ask: {type: collect, prompt: ask, var: ticket, max_digits: 6, next: status, exhausted: bye}
  status: {type: ticket_status, var: ticket, next: bye, unknown: sorry}
  sorry: {type: hangup, prompt: sorry}
  bye: {type: hangup, prompt: goodbye}
`

func TestTicketStatus(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		tickets *fakeTickets // nil: no lookup
		lang    string
		played  []string // after "ask"
		event   string
		path    string // the node after status
	}{
		"found, updated today": {
			tickets: &fakeTickets{found: true, status: ivr.TicketStatus{Status: "open", Updated: now.Add(-9 * time.Hour)}},
			played:  []string{"en:ticket-status-is", "en:status-open", "en:updated-today", "en:goodbye"},
			event:   "1234 open", path: "bye",
		},
		"found, updated yesterday evening": {
			tickets: &fakeTickets{found: true, status: ivr.TicketStatus{Status: "pending", Updated: now.Add(-11 * time.Hour)}},
			played:  []string{"en:ticket-status-is", "en:status-pending", "en:updated-yesterday", "en:goodbye"},
			event:   "1234 pending", path: "bye",
		},
		"found, 12 days ago, in Russian": {
			tickets: &fakeTickets{found: true, status: ivr.TicketStatus{Status: "solved", Updated: now.AddDate(0, 0, -12)}},
			lang:    "ru",
			played:  []string{"ru:ticket-status-is", "ru:status-solved", "ru:updated", "ru:digit-1", "ru:digit-2", "ru:days-ago", "ru:goodbye"},
			event:   "1234 solved", path: "bye",
		},
		"found, status in capitals, no update time": {
			tickets: &fakeTickets{found: true, status: ivr.TicketStatus{Status: "Closed"}},
			played:  []string{"en:ticket-status-is", "en:status-closed", "en:goodbye"},
			event:   "1234 closed", path: "bye",
		},
		"found, updated in the future counts as today": {
			tickets: &fakeTickets{found: true, status: ivr.TicketStatus{Status: "new", Updated: now.Add(48 * time.Hour)}},
			played:  []string{"en:ticket-status-is", "en:status-new", "en:updated-today", "en:goodbye"},
			event:   "1234 new", path: "bye",
		},
		"not found (or another caller's)": {
			tickets: &fakeTickets{},
			played:  []string{"en:ticket-unknown", "en:sorry"},
			event:   "1234 unknown", path: "sorry",
		},
		"no lookup": {
			played: []string{"en:ticket-unknown", "en:sorry"},
			event:  "1234 unknown", path: "sorry",
		},
		"lookup fails": {
			tickets: &fakeTickets{err: errors.New("database is down")},
			played:  []string{"en:try-later", "en:goodbye"},
			event:   "1234 error: database is down", path: "bye",
		},
		"a status the IVR cannot say": {
			tickets: &fakeTickets{found: true, status: ivr.TicketStatus{Status: "on-hold"}},
			played:  []string{"en:try-later", "en:goodbye"},
			event:   `1234 error: unknown ticket status "on-hold"`, path: "bye",
		},
	}
	e := engine(t, ticketFlow)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lang := tc.lang
				if lang == "" {
					lang = "en"
				}
				f := newFake().during(lang+":ask", time.Second, "1234#")
				var events []ivr.Event
				o := ivr.RunOptions{
					Language: lang,
					Caller:   "+4930123456",
					Now:      func() time.Time { return now },
					OnEvent:  func(e ivr.Event) { events = append(events, e) },
				}
				if tc.tickets != nil {
					o.Tickets = tc.tickets
				}
				out, err := e.Run(t.Context(), "main", f, o)
				require.NoError(t, err)
				require.Equal(t, ivr.KindHangup, out.Kind)
				require.Equal(t, []string{"ask", "status", tc.path}, out.Path)
				require.Equal(t, append([]string{lang + ":ask"}, tc.played...), f.Played())
				require.Contains(t, events, ivr.Event{Node: "status", Kind: "ticket", Detail: tc.event})
				if tc.tickets != nil {
					require.Equal(t, []string{"1234 +4930123456"}, tc.tickets.asked)
				}
			})
		})
	}
}

func TestTicketStatusEmptyNumberIsNotLookedUp(t *testing.T) {
	const flow = `
start: ask
nodes:
  ask: {type: collect, prompt: ask, var: ticket, allow_empty: true, next: status, exhausted: status}
  status: {type: ticket_status, var: ticket, next: bye}
  bye: {type: hangup}
`
	synctest.Test(t, func(t *testing.T) {
		tickets := &fakeTickets{found: true, status: ivr.TicketStatus{Status: "open"}}
		f := newFake().during("en:ask", time.Second, "#")
		out, err := engine(t, flow).Run(t.Context(), "main", f, ivr.RunOptions{Tickets: tickets})
		require.NoError(t, err)
		require.Empty(t, tickets.asked)
		require.Equal(t, []string{"ask", "status", "bye"}, out.Path, "unknown defaults to next")
		require.Equal(t, []string{"en:ask", "en:ticket-unknown"}, f.Played())
	})
}

func TestTicketStatusDaysInTheFlowsTimeZone(t *testing.T) {
	// 23:30 UTC on the 22nd is already the 23rd in Berlin (UTC+1 in November).
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	updated := time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC)
	const ask = `
  ask: {type: collect, prompt: ask, var: ticket, next: status, exhausted: bye}
  bye: {type: hangup}
`
	cases := map[string]struct{ flow, want string }{
		"no zone: UTC": {`
start: ask
nodes:
  status: {type: ticket_status, var: ticket, next: bye}` + ask, "en:updated-yesterday"},
		"the hours node's zone": {`
start: hours
nodes:
  hours: {type: hours, time_zone: Europe/Berlin, schedule: [daily 00:00-24:00], open: ask, closed: bye}
  status: {type: ticket_status, var: ticket, next: bye}` + ask, "en:updated-today"},
		"its own zone first": {`
start: hours
nodes:
  hours: {type: hours, time_zone: UTC, schedule: [daily 00:00-24:00], open: ask, closed: bye}
  status: {type: ticket_status, var: ticket, time_zone: Europe/Berlin, next: bye}` + ask, "en:updated-today"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := engine(t, tc.flow)
			synctest.Test(t, func(t *testing.T) {
				tickets := &fakeTickets{found: true, status: ivr.TicketStatus{Status: "open", Updated: updated}}
				f := newFake().during("en:ask", time.Second, "7#")
				out, err := e.Run(t.Context(), "main", f, ivr.RunOptions{Tickets: tickets, Now: func() time.Time { return now }})
				require.NoError(t, err)
				require.Equal(t, ivr.KindHangup, out.Kind)
				require.Equal(t, []string{"7 "}, tickets.asked, "no RunOptions.Caller: an empty caller")
				require.Equal(t, []string{"en:ask", "en:ticket-status-is", "en:status-open", tc.want}, f.Played())
			})
		})
	}
}

func TestVoicemail(t *testing.T) {
	const flow = `
start: hours
nodes:
  hours: {type: hours, time_zone: UTC, schedule: ["mon-fri 09:00-18:00"], open: q, closed: vm}
  q: {type: queue, queue: support}
  vm:
    type: voicemail
    prompt: [closed, leave-message]
    queue: support
    max_length: 90s
`
	sunday := func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }
	synctest.Test(t, func(t *testing.T) {
		// '#' during the prompt neither stops it nor is consumed by the IVR.
		f := newFake().during("en:leave-message", 500*time.Millisecond, "#")
		out, err := engine(t, flow).Run(t.Context(), "main", f, ivr.RunOptions{Now: sunday})
		require.NoError(t, err)
		require.Len(t, out.Steps, 2)
		out.Steps = nil
		require.Equal(t, ivr.Outcome{
			Kind: ivr.KindVoicemail, Queue: "support", MaxLength: 90 * time.Second,
			Language: "en", Vars: map[string]string{}, Path: []string{"hours", "vm"},
		}, out)
		require.Equal(t, []string{"en:closed", "en:leave-message"}, f.Played())
		require.Empty(t, f.Stopped())
	})
}

func TestVoicemailDefaults(t *testing.T) {
	const flow = `
start: vm
nodes:
  vm: {type: voicemail}
`
	out, err := engine(t, flow).Run(t.Context(), "main", newFake(), ivr.RunOptions{Language: "ru"})
	require.NoError(t, err)
	require.Equal(t, ivr.KindVoicemail, out.Kind)
	require.Empty(t, out.Queue)
	require.Equal(t, ivr.DefaultVoicemailLength, out.MaxLength)
	require.Equal(t, 2*time.Minute, out.MaxLength)
}
