package main

// End-to-end tests of the helpdesk: every call becomes or joins a ticket.
// A real node, the test phone through the demo IVR, and the pure-Go agent
// client; tickets are read back through the API as a script would.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/store/pgtest"
	"github.com/hotline/hotline/sip/siptest"
)

// ticketQueues is agentQueues with the support queue's disposition codes
// and a wrap-up long enough to attach a ticket.
var ticketQueues = strings.Replace(agentQueues, "      wrap_up: 1s\n",
	"      wrap_up: 30s\n      dispositions: [resolved, escalated]\n", 1)

// ticketJSON is a ticket as the API returns it.
type ticketJSON struct {
	store.Ticket
	ID string `json:"id"`
}

// session is a signed-in person: the cookie and the CSRF token their page
// sends with every change.
type session struct{ cookie, csrf string }

// signIn creates a user and signs them in.
func (n *testNode) signIn(username string, role store.Role) session {
	n.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": n.addUser(username, role)})
	res, err := http.Post("http://"+n.HTTPAddr()+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(n.t, err)
	defer res.Body.Close()
	require.Equal(n.t, 200, res.StatusCode)
	var s session
	for _, c := range res.Cookies() {
		s.cookie = c.Name + "=" + c.Value
	}
	var p struct {
		CSRF string `json:"csrf"`
	}
	require.NoError(n.t, json.NewDecoder(res.Body).Decode(&p))
	s.csrf = p.CSRF
	return s
}

// api sends a request as s (or with the supervisor token when s is nil)
// and decodes a JSON reply into out.
func (n *testNode) api(s *session, method, path string, in, out any) int {
	n.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(n.t, err)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+n.HTTPAddr()+path, body)
	require.NoError(n.t, err)
	req.Header.Set("Content-Type", "application/json")
	if s != nil {
		req.Header.Set("Cookie", s.cookie)
		req.Header.Set(httpapi.CSRFHeader, s.csrf)
	} else {
		req.Header.Set("Authorization", "Bearer "+n.token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(n.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(n.t, err)
	if out != nil && res.StatusCode < 300 {
		require.NoError(n.t, json.Unmarshal(raw, out), string(raw))
	}
	return res.StatusCode
}

// ticketsOf lists a phone number's tickets through the API.
func (n *testNode) ticketsOf(phone string) []ticketJSON {
	n.t.Helper()
	var page struct {
		Tickets []ticketJSON `json:"tickets"`
	}
	require.Equal(n.t, 200, n.api(nil, "GET", "/api/v1/tickets?phone="+phone, nil, &page))
	return page.Tickets
}

// abandonBilling calls billing, which nobody answers, and hangs up on hold.
func abandonBilling(t *testing.T, n *testNode) callDetail {
	t.Helper()
	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	press(t, call, "12", media.SourceRFC4733)
	hear(t, call, holdTone)
	require.NoError(t, call.Hangup(ctx))
	return n.waitEnded(call.CallID())
}

// hangUpAndWrapUp ends the agent's call from the agent's side and waits for
// wrap-up.
func hangUpAndWrapUp(t *testing.T, a *agentclient.Client, call *siptest.PhoneCall, callID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, a.Send(ctx, softphone.Hangup{CallID: callID}))
	callerHungUp(t, call)
	require.Equal(t, softphone.CallEnded, waitMsg[softphone.Call](t, a, softphone.TypeCall).Status)
	waitState(t, a, softphone.StateWrapUp)
}

// A caller who gave up in the queue calls again: the agent's phone rings
// with the missed ticket, the agent attaches the call to it, cannot finish
// wrap-up without a disposition, and the ticket holds both calls. The next
// call the agent links to nothing gets a ticket of its own at the end of
// wrap-up, with the agent's note.
func TestEveryCallLandsOnATicket(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { testEveryCallLandsOnATicket(t, backend) })
	}
}

func testEveryCallLandsOnATicket(t *testing.T, backend string) {
	n := startTestNode(t, nodeOptions{extra: ticketQueues, database: testDatabase(t, backend)})
	missed := abandonBilling(t, n)
	require.Equal(t, "abandoned", missed.Call.Outcome)
	caller := missed.Call.From
	var t1 ticketJSON
	require.Eventually(t, func() bool {
		ts := n.ticketsOf(caller)
		if len(ts) == 1 {
			t1 = ts[0]
		}
		return len(ts) == 1
	}, 10*time.Second, 50*time.Millisecond, "the abandoned call leaves a ticket")
	require.True(t, t1.Missed)
	require.Equal(t, "billing", t1.Queue)
	require.Equal(t, []string{missed.Call.ID}, callIDs(t1.Ticket))

	annaSession := n.signIn("anna", store.RoleAgent)
	anna, _ := connectAgent(t, n.HTTPAddr(), annaSession.cookie)
	call := dialSupport(t, n, testSerial)
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.Len(t, ring.Tickets, 1, "the screen pop shows the caller's open ticket")
	require.Equal(t, t1.ID, ring.Tickets[0].Number)
	require.True(t, ring.Tickets[0].Missed)
	require.Contains(t, ring.Tickets[0].LastNote, "hung up")
	require.Equal(t, testSerial, ring.Vars["serial"])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	connected := waitMsg[softphone.Call](t, anna, softphone.TypeCall)
	require.Equal(t, softphone.CallConnected, connected.Status)
	require.Equal(t, []string{"resolved", "escalated"}, connected.Dispositions)
	require.Equal(t, t1.ID, connected.Tickets[0].Number)

	// The ticket is billing's, not anna's queue; its caller is on her line.
	var attached ticketJSON
	require.Equal(t, 200, n.api(&annaSession, "POST", "/api/v1/tickets/"+t1.ID+"/calls",
		map[string]string{"call_id": ring.CallID}, &attached))
	require.Equal(t, []string{missed.Call.ID, ring.CallID}, callIDs(attached.Ticket))
	require.False(t, attached.Missed, "an agent's response clears the missed mark")
	require.NotNil(t, attached.FirstResponseAt)

	hangUpAndWrapUp(t, anna, call, ring.CallID)
	require.NoError(t, anna.Send(ctx, softphone.WrapupDone{CallID: ring.CallID, Note: "explained the invoice"}))
	refusal := waitMsg[softphone.Error](t, anna, softphone.TypeError)
	require.Equal(t, softphone.CodeDisposition, refusal.Code)
	require.Contains(t, refusal.Message, "resolved, escalated")
	require.NoError(t, anna.Send(ctx, softphone.WrapupDone{CallID: ring.CallID, Disposition: "resolved", Note: "explained the invoice"}))
	waitState(t, anna, softphone.StateReady)

	var detail struct {
		Call    httpapi.CallJSON `json:"call"`
		Tickets []string         `json:"tickets"`
	}
	require.Eventually(t, func() bool {
		n.getJSON("/api/v1/calls/"+ring.CallID, &detail)
		return detail.Call.Disposition == "resolved"
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, []string{t1.ID}, detail.Tickets, "the call's API object links its ticket")
	time.Sleep(300 * time.Millisecond) // the ticket worker has had its chance to add one
	require.Len(t, n.ticketsOf(caller), 1, "a call linked by the agent makes no second ticket")

	// The next call is linked to nothing: a ticket is made from it.
	call = dialSupport(t, n, "")
	ring = waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	hangUpAndWrapUp(t, anna, call, ring.CallID)
	require.NoError(t, anna.Send(ctx, softphone.WrapupDone{CallID: ring.CallID, Disposition: "escalated", Note: "replace the power supply"}))
	waitState(t, anna, softphone.StateReady)
	var auto ticketJSON
	require.Eventually(t, func() bool {
		for _, tk := range n.ticketsOf(caller) {
			if len(tk.Calls) == 1 && tk.Calls[0].CallID == ring.CallID {
				auto = tk
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "no ticket picked by the end of wrap-up: one is created")
	require.Equal(t, "Call to support", auto.Subject)
	require.Equal(t, store.TicketNew, auto.Status)
	require.Equal(t, "anna", auto.Assignee)
	require.Len(t, auto.Notes, 1)
	require.Equal(t, "replace the power supply", auto.Notes[0].Text)
	// The recording's row comes through the record writer, which may write
	// it after the ticket worker made the ticket.
	require.Eventually(t, func() bool {
		for _, tk := range n.ticketsOf(caller) {
			if tk.ID == auto.ID && len(tk.Calls) == 1 && tk.Calls[0].RecordingID != "" {
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "the ticket's call links its recording")
}

// testDatabase is "" (SQLite under the node's data dir) or a new
// PostgreSQL database.
func testDatabase(t *testing.T, backend string) string {
	if backend == "postgres" {
		return pgtest.Start(t).CreateDB(t)
	}
	return ""
}

func callIDs(t store.Ticket) []string {
	var out []string
	for _, c := range t.Calls {
		out = append(out, c.CallID)
	}
	return out
}

// Menu 3 reads a ticket's status back, only to the phone it belongs to;
// an unknown number is told so.
func TestTicketStatusInTheIVR(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	status := func(number string) (*siptest.PhoneCall, string) {
		phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
		require.NoError(t, err)
		press(t, call, "13"+number+"#", media.SourceRFC4733)
		return call, call.CallID()
	}

	call, sipID := status("424242")
	hear(t, call, toneOf["ticket-unknown"])
	hear(t, call, toneOf["main-menu"])
	require.NoError(t, call.Hangup(context.Background()))
	unknown := n.waitEnded(sipID)
	require.Contains(t, eventDetails(unknown, "ivr.ticket"), "424242 unknown")

	var tk ticketJSON
	require.Equal(t, 201, n.api(nil, "POST", "/api/v1/tickets", map[string]string{
		"subject": "router keeps rebooting", "caller_number": unknown.Call.From, "status": "open",
	}, &tk))
	call, sipID = status(fmt.Sprint(tk.Number))
	hear(t, call, toneOf["ticket-status-is"])
	hear(t, call, toneOf["status-open"])
	hear(t, call, toneOf["updated-today"])
	hear(t, call, toneOf["main-menu"])
	require.NoError(t, call.Hangup(context.Background()))
	known := n.waitEnded(sipID)
	require.Contains(t, eventDetails(known, "ivr.ticket"), fmt.Sprintf("%d open", tk.Number))

	// Another caller's ticket is not read: the same answer as unknown.
	var other ticketJSON
	require.Equal(t, 201, n.api(nil, "POST", "/api/v1/tickets", map[string]string{
		"subject": "someone else's", "caller_number": "5550100", "status": "open",
	}, &other))
	call, sipID = status(fmt.Sprint(other.Number))
	hear(t, call, toneOf["ticket-unknown"])
	require.NoError(t, call.Hangup(context.Background()))
	require.Contains(t, eventDetails(n.waitEnded(sipID), "ivr.ticket"), fmt.Sprintf("%d unknown", other.Number))
}

// eventDetails joins the details of a call's events of one kind.
func eventDetails(d callDetail, kind string) string {
	var out []string
	for _, e := range d.Events {
		if e.Kind == kind {
			out = append(out, e.Detail)
		}
	}
	return strings.Join(out, "; ")
}

// After hours the caller leaves a voicemail: the beep, the message until
// '#', the thanks; the call is a missed ticket with the message as the
// call's recording.
func TestAfterHoursVoicemailBecomesATicket(t *testing.T) {
	today := time.Now().UTC().Format(time.DateOnly)
	n := startTestNode(t, nodeOptions{extra: agentQueues, flowEdit: func(flow string) string {
		edited := strings.Replace(flow, "holidays: []", fmt.Sprintf("holidays: [%q]", today), 1)
		require.NotEqual(t, flow, edited, "the demo flow has a holidays list to close today")
		return edited
	}})
	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	hear(t, call, toneOf["closed"])
	hear(t, call, toneOf["leave-message"])
	hear(t, call, toneOf["beep"])
	beep := time.Now()
	require.NoError(t, call.Say(ctx, media.Tone([]float64{600}, 3*time.Second, 0.3)))
	press(t, call, "#", media.SourceRFC4733)
	select {
	case <-call.Done(): // the thanks (a short prompt), then the hotline hangs up
	case <-ctx.Done():
		t.Fatal("the hotline did not hang up after the message")
	}
	spoke := time.Since(beep)

	d := n.waitEnded(call.CallID())
	require.Equal(t, "voicemail", d.Call.Outcome)
	require.Equal(t, "support", d.Call.Queue)
	var tk ticketJSON
	require.Eventually(t, func() bool {
		ts := n.ticketsOf(d.Call.From)
		if len(ts) == 1 {
			tk = ts[0]
		}
		return len(ts) == 1 && len(tk.Calls) == 1 && tk.Calls[0].RecordingID != ""
	}, 10*time.Second, 50*time.Millisecond, "the voicemail leaves a ticket linking its recording")
	require.True(t, tk.Missed)
	require.Contains(t, tk.Subject, "Voicemail")
	require.Equal(t, "support", tk.Queue)
	rec, err := n.store.GetRecording(ctx, tk.Calls[0].RecordingID)
	require.NoError(t, err)
	require.Equal(t, store.RecordingComplete, rec.State)
	require.GreaterOrEqual(t, rec.DurationMS, int64(2500), "the 3 s message is in the recording")
	require.LessOrEqual(t, rec.DurationMS, spoke.Milliseconds()+500, "the recording ends with the message, at the '#'")
	require.Contains(t, eventDetails(d, "voicemail"), "support")
}

// callerHungUp waits (at most 20 s) for the hotline's BYE to the caller.
func callerHungUp(t *testing.T, call *siptest.PhoneCall) {
	t.Helper()
	select {
	case <-call.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the call was hung up on the hotline's side but the caller never got BYE")
	}
}
