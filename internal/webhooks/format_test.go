package webhooks

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

var testAt = time.Date(2026, 3, 4, 10, 20, 30, 123000000, time.UTC)

func callMsg(t *testing.T, seq int64, topic string, p CallPayload) store.OutboxMessage {
	t.Helper()
	b, err := json.Marshal(p)
	require.NoError(t, err)
	return store.OutboxMessage{ID: "call:" + p.CallID + ":" + topic, Seq: seq, Topic: topic, Key: p.CallID, At: p.At, Payload: b}
}

func TestEncodeEvent(t *testing.T) {
	m := store.OutboxMessage{
		ID: "call:c1:3", Seq: 9, Topic: store.TopicCallAnswered, Key: "c1",
		At:      testAt.In(time.FixedZone("CET", 3600)),
		Payload: json.RawMessage(`{"call_id":"c1","agent":"anna"}`),
	}
	b, err := EncodeEvent(m)
	require.NoError(t, err)
	require.Equal(t, `{"id":"call:c1:3","topic":"call.answered","at":"2026-03-04T10:20:30.123Z","key":"c1","data":{"call_id":"c1","agent":"anna"}}`,
		string(b), "the documented body: id, topic, at (UTC), key, data = the payload as stored")

	m.Payload = nil
	b, err = EncodeEvent(m)
	require.NoError(t, err)
	require.Contains(t, string(b), `"data":null`)

	m.Payload = json.RawMessage(`{broken`)
	_, err = EncodeEvent(m)
	require.Error(t, err)
}

func TestCallPayloadJSON(t *testing.T) {
	b, err := json.Marshal(CallPayload{CallID: "c1", From: "+4930", To: "100", Queue: "support", Agent: "anna", Cause: "answered", At: testAt})
	require.NoError(t, err)
	require.JSONEq(t, `{"call_id":"c1","from":"+4930","to":"100","queue":"support","agent":"anna","cause":"answered","at":"2026-03-04T10:20:30.123Z"}`, string(b))
	b, err = json.Marshal(RecordingPayload{RecordingID: "r1", CallID: "c1", State: "ready", DurationMS: 1500, Bytes: 24000, SHA256: "ab", Queue: "q", Agents: []string{"anna"}})
	require.NoError(t, err)
	require.JSONEq(t, `{"recording_id":"r1","call_id":"c1","state":"ready","duration_ms":1500,"bytes":24000,"sha256":"ab","queue":"q","agents":["anna"]}`, string(b))
}

func TestEncodeZammad(t *testing.T) {
	p := CallPayload{CallID: "0197-abc", From: `"Max" <sip:+493055571600@carrier.example;user=phone>`, To: "sip:4930123@hotline", Queue: "support", At: testAt}
	for name, tc := range map[string]struct {
		topic string
		p     func(CallPayload) CallPayload
		want  string
	}{
		"ringing": {store.TopicCallRinging, func(p CallPayload) CallPayload { return p },
			"event=newCall&from=%2B493055571600&to=4930123&direction=in&callId=0197-abc&queue=support"},
		"ringing an agent": {store.TopicCallRinging, func(p CallPayload) CallPayload { p.Agent = "anna"; return p },
			"event=newCall&from=%2B493055571600&to=4930123&direction=in&callId=0197-abc&user%5B%5D=anna&queue=support"},
		"answered": {store.TopicCallAnswered, func(p CallPayload) CallPayload { p.Agent = "anna"; return p },
			"event=answer&from=%2B493055571600&to=4930123&direction=in&callId=0197-abc&user%5B%5D=anna&answeringNumber=anna"},
		"ended after talking": {store.TopicCallEnded, func(p CallPayload) CallPayload { p.Agent = "anna"; p.Cause = "answered"; return p },
			"event=hangup&from=%2B493055571600&to=4930123&direction=in&callId=0197-abc&user%5B%5D=anna&answeringNumber=anna&cause=normalClearing"},
		"abandoned in queue": {store.TopicCallEnded, func(p CallPayload) CallPayload { p.Cause = "abandoned"; return p },
			"event=hangup&from=%2B493055571600&to=4930123&direction=in&callId=0197-abc&cause=cancel"},
		"anonymous caller": {store.TopicCallRinging, func(p CallPayload) CallPayload { p.From = ""; p.Queue = ""; return p },
			"event=newCall&from=anonymous&to=4930123&direction=in&callId=0197-abc"},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := EncodeZammad(callMsg(t, 1, tc.topic, tc.p(p)))
			require.NoError(t, err)
			require.Equal(t, tc.want, string(b))
		})
	}

	_, err := EncodeZammad(store.OutboxMessage{ID: "t", Topic: store.TopicTicketCreated, Payload: json.RawMessage(`{}`)})
	require.ErrorIs(t, err, errNotForZammad)
	_, err = EncodeZammad(store.OutboxMessage{ID: "x", Topic: store.TopicCallEnded, Payload: json.RawMessage(`[]`)})
	require.Error(t, err, "a payload that is not a CallPayload")
	b, err := EncodeZammad(store.OutboxMessage{ID: "x", Key: "from-key", Topic: store.TopicCallEnded, Payload: json.RawMessage(`{"cause":"busy"}`)})
	require.NoError(t, err)
	require.Equal(t, "event=hangup&from=anonymous&to=&direction=in&callId=from-key&cause=busy", string(b), "callId falls back to the message key")
}

func TestZammadCause(t *testing.T) {
	for _, tc := range []struct{ cause, agent, want string }{
		{"answered", "anna", "normalClearing"},
		{"bye", "anna", "normalClearing"},
		{"bye", "", "cancel"},
		{"", "", "cancel"},
		{"abandoned", "", "cancel"},
		{"ivr-abandoned", "", "cancel"},
		{"cancel", "", "cancel"},
		{"ivr-hangup", "", "normalClearing"},
		{"overflow", "", "congestion"},
		{"shutdown", "anna", "congestion"},
		{"media-timeout", "anna", "congestion"},
		{"no-answer", "", "noAnswer"},
		{"busy", "", "busy"},
		{"not-found", "", "notFound"},
		{"transferred", "anna", "forwarded"},
		{"noAnswer", "", "noAnswer"},
		{"forwarded", "", "forwarded"},
	} {
		require.Equal(t, tc.want, ZammadCause(CallPayload{Cause: tc.cause, Agent: tc.agent}), "%s/%s", tc.cause, tc.agent)
	}
}

func TestNumber(t *testing.T) {
	for in, want := range map[string]string{
		"+4930123":                                 "+4930123",
		"sip:100@hotline.example":                  "100",
		"SIP:100@hotline.example":                  "100",
		"sips:+4930@x;user=phone":                  "+4930",
		"tel:+4930123;ext=1":                       "+4930123",
		`"Anna" <sip:anonymous@anonymous.invalid>`: "anonymous",
		"<sip:200@pbx>;tag=abc":                    "200",
		"":                                         "",
	} {
		require.Equal(t, want, number(in), in)
	}
}
