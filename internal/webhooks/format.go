package webhooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/store"
)

// Event is the JSON body of a hotline-format delivery.
type Event struct {
	ID    string    `json:"id"`    // the outbox message id: stable across retries
	Topic string    `json:"topic"` // one of Topics()
	At    time.Time `json:"at"`    // when the change happened (UTC)
	Key   string    `json:"key"`   // ordering key: a call id, "T-000123", ...
	// Data is the topic's payload: a CallPayload for call.*, a store.Ticket
	// for ticket.*, a RecordingPayload for recording.ready.
	Data json.RawMessage `json:"data"`
}

// CallPayload is the payload of the call.ringing, call.answered and
// call.ended messages; the switchboard fills it.
type CallPayload struct {
	CallID string `json:"call_id"` // the hotline's call id (also the message Key)
	From   string `json:"from"`    // caller: a number or SIP URI; "" or "anonymous" when withheld
	To     string `json:"to"`      // the dialled number or URI
	Queue  string `json:"queue"`   // the ACD queue, when routed to one
	// Agent is the user name of the agent offered (call.ringing) or
	// connected (call.answered, call.ended); "" when none.
	Agent string `json:"agent"`
	// Cause says why a call ended (call.ended only): the switchboard's
	// outcome (answered, abandoned, overflow, ivr-hangup, ivr-abandoned,
	// error, shutdown), a SIP end cause (bye, cancel, media-timeout, ...) or
	// one of Zammad's own causes, passed through. See ZammadCause.
	Cause string    `json:"cause"`
	At    time.Time `json:"at"` // when it happened
}

// RecordingPayload is the payload of recording.ready.
type RecordingPayload struct {
	RecordingID string   `json:"recording_id"`
	CallID      string   `json:"call_id"`
	State       string   `json:"state"`
	DurationMS  int64    `json:"duration_ms"`
	Bytes       int64    `json:"bytes"`
	SHA256      string   `json:"sha256"`
	Queue       string   `json:"queue"`
	Agents      []string `json:"agents"`
}

// EncodeEvent returns the hotline-format body of m: an Event as JSON.
func EncodeEvent(m store.OutboxMessage) ([]byte, error) {
	data := m.Payload
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("webhooks: message %s: payload is not JSON", m.ID)
	}
	return json.Marshal(Event{ID: m.ID, Topic: m.Topic, At: m.At.UTC(), Key: m.Key, Data: data})
}

// Zammad generic CTI events and hangup causes.
const (
	zammadNewCall = "newCall"
	zammadAnswer  = "answer"
	zammadHangup  = "hangup"
)

// zammadTopics are the topics a zammad endpoint can receive.
func zammadTopics() []string {
	return []string{store.TopicCallRinging, store.TopicCallAnswered, store.TopicCallEnded}
}

// zammadEvent maps a topic to Zammad's event name, or "".
func zammadEvent(topic string) string {
	switch topic {
	case store.TopicCallRinging:
		return zammadNewCall
	case store.TopicCallAnswered:
		return zammadAnswer
	case store.TopicCallEnded:
		return zammadHangup
	}
	return ""
}

// ZammadCause maps a call.ended payload to a Zammad hangup cause:
//
//	Zammad's own causes (normalClearing, busy, cancel, noAnswer,
//	congestion, notFound, forwarded)                    → passed through
//	abandoned, ivr-abandoned, cancel                    → cancel (a missed call)
//	ivr-hangup (the IVR served the caller and hung up)  → normalClearing
//	busy                                                → busy
//	no-answer, noanswer, timeout                        → noAnswer
//	overflow, error, shutdown, media-timeout,
//	media-error, ack-timeout, bad-sdp                   → congestion
//	not-found                                           → notFound
//	transferred                                         → forwarded
//	anything else (answered, bye, hangup, "")           → normalClearing when an
//	                                                      agent took the call,
//	                                                      else cancel
func ZammadCause(p CallPayload) string {
	switch p.Cause {
	case "normalClearing", "busy", "cancel", "noAnswer", "congestion", "notFound", "forwarded":
		return p.Cause
	case "abandoned", "ivr-abandoned":
		return "cancel"
	case "ivr-hangup":
		return "normalClearing"
	case "no-answer", "noanswer", "timeout":
		return "noAnswer"
	case "overflow", "error", "shutdown", "media-timeout", "media-error", "ack-timeout", "bad-sdp":
		return "congestion"
	case "not-found":
		return "notFound"
	case "transferred":
		return "forwarded"
	}
	if p.Agent != "" {
		return "normalClearing"
	}
	return "cancel"
}

// errNotForZammad marks a topic Zammad has no event for.
var errNotForZammad = errors.New("webhooks: topic not sent to zammad")

// EncodeZammad returns the application/x-www-form-urlencoded body of m for
// Zammad's generic CTI API:
//
//	event=newCall|answer|hangup  (call.ringing, call.answered, call.ended)
//	from, to                     the numbers (the user part of a SIP URI; from "anonymous" when empty)
//	direction=in
//	callId                       the hotline call id
//	user[]                       the agent, when there is one
//	queue                        newCall, when the call is in a queue
//	answeringNumber              answer and hangup: the agent's user name (Zammad looks it up as phone, login, id)
//	cause                        hangup: ZammadCause
//
// Other topics return an error: they are not sent to Zammad.
func EncodeZammad(m store.OutboxMessage) ([]byte, error) {
	ev := zammadEvent(m.Topic)
	if ev == "" {
		return nil, fmt.Errorf("%w: %s", errNotForZammad, m.Topic)
	}
	var p CallPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return nil, fmt.Errorf("webhooks: message %s: call payload: %w", m.ID, err)
	}
	callID := p.CallID
	if callID == "" {
		callID = m.Key
	}
	if callID == "" {
		return nil, fmt.Errorf("webhooks: message %s: call payload has no call_id", m.ID)
	}
	from := number(p.From)
	if from == "" {
		from = "anonymous"
	}
	var f form
	f.add("event", ev)
	f.add("from", from)
	f.add("to", number(p.To))
	f.add("direction", "in")
	f.add("callId", callID)
	if p.Agent != "" {
		f.add("user[]", p.Agent)
	}
	switch ev {
	case zammadNewCall:
		if p.Queue != "" {
			f.add("queue", p.Queue)
		}
	case zammadAnswer:
		if p.Agent != "" {
			f.add("answeringNumber", p.Agent)
		}
	case zammadHangup:
		if p.Agent != "" {
			f.add("answeringNumber", p.Agent)
		}
		f.add("cause", ZammadCause(p))
	}
	return []byte(f.String()), nil
}

// form is an ordered url-encoded form (url.Values sorts its keys; Zammad
// does not care, but a documented order is easier to read and test).
type form struct{ b strings.Builder }

func (f *form) add(k, v string) {
	if f.b.Len() > 0 {
		f.b.WriteByte('&')
	}
	f.b.WriteString(url.QueryEscape(k))
	f.b.WriteByte('=')
	f.b.WriteString(url.QueryEscape(v))
}

func (f *form) String() string { return f.b.String() }

// number returns the phone number in a From/To value: "Anna
// <sip:+4930123@example.com;user=phone>" → "+4930123". A plain number
// passes through.
func number(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	lower := strings.ToLower(s)
	for _, scheme := range []string{"sip:", "sips:", "tel:"} {
		if strings.HasPrefix(lower, scheme) {
			s = s[len(scheme):]
			if i := strings.IndexByte(s, '@'); i >= 0 {
				s = s[:i]
			}
			if i := strings.IndexByte(s, ';'); i >= 0 {
				s = s[:i]
			}
			break
		}
	}
	return s
}
