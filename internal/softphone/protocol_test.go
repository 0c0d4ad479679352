package softphone_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
)

func TestDecodeBrowserMessages(t *testing.T) {
	tests := []struct {
		in   string
		want softphone.Message
	}{
		{`{"v":1,"type":"hello"}`, softphone.Hello{}},
		{`{"v":1,"type":"ready"}`, softphone.Ready{}},
		{`{"v":1,"type":"not_ready","reason":"lunch"}`, softphone.NotReady{Reason: "lunch"}},
		{`{"v":1,"type":"accept","call_id":"c1"}`, softphone.Accept{CallID: "c1"}},
		{`{"v":1,"type":"reject","call_id":"c1"}`, softphone.Reject{CallID: "c1"}},
		{`{"v":1,"type":"hangup","call_id":"c1"}`, softphone.Hangup{CallID: "c1"}},
		{`{"v":1,"type":"hold","call_id":"c1","on":true}`, softphone.Hold{CallID: "c1", On: true}},
		{`{"v":1,"type":"hold","call_id":"c1","on":false}`, softphone.Hold{CallID: "c1", On: false}},
		{`{"v":1,"type":"dtmf","call_id":"c1","digits":"12*#AD"}`, softphone.DTMF{CallID: "c1", Digits: "12*#AD"}},
		{`{"v":1,"type":"transfer","call_id":"c1","queue":"sales"}`, softphone.Transfer{CallID: "c1", Queue: "sales"}},
		{`{"v":1,"type":"transfer","call_id":"c1","agent":"bob"}`, softphone.Transfer{CallID: "c1", Agent: "bob"}},
		{`{"v":1,"type":"wrapup_done","call_id":"c1","note":"fixed <it>","disposition":"solved"}`,
			softphone.WrapupDone{CallID: "c1", Note: "fixed <it>", Disposition: "solved"}},
		{`{"v":1,"type":"pause_recording","call_id":"c1","on":true}`, softphone.PauseRecording{CallID: "c1", On: true}},
		{`{"v":1,"type":"pause_recording","call_id":"c1","on":false}`, softphone.PauseRecording{CallID: "c1", On: false}},
		{`{"v":1,"type":"mute","call_id":"c1","on":true}`, softphone.Mute{CallID: "c1", On: true}},
		{`{"v":1,"type":"mute","call_id":"c1","on":false}`, softphone.Mute{CallID: "c1"}},
		{`{"v":1,"type":"ping","t":1732490000123}`, softphone.Ping{T: 1732490000123}},
		{`{"v":1,"type":"webrtc_offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}`,
			softphone.WebRTCOffer{SDP: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}},
		{`{"v":1,"type":"ice","candidate":null}`, softphone.ICE{}},
		{` {"type":"ready","v":1,"extra":"ignored"} `, softphone.Ready{}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			m, err := softphone.Decode([]byte(tc.in))
			require.NoError(t, err)
			require.Equal(t, tc.want, m)
			require.True(t, softphone.FromBrowser(m.Type()))
		})
	}
}

func TestDecodeICECandidate(t *testing.T) {
	m, err := softphone.Decode([]byte(`{"v":1,"type":"ice","candidate":{"candidate":"candidate:1 1 udp 2122194687 127.0.0.1 33954 typ host","sdpMid":"0","sdpMLineIndex":0}}`))
	require.NoError(t, err)
	c := m.(softphone.ICE).Candidate
	require.NotNil(t, c)
	require.Equal(t, "0", *c.SDPMid)
	require.Equal(t, uint16(0), *c.SDPMLineIndex)
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in, code, ref, msg string
	}{
		{``, softphone.CodeBadJSON, "", "JSON object"},
		{`[1,2]`, softphone.CodeBadJSON, "", "JSON object"},
		{`{"v":1,"type":"ping"`, softphone.CodeBadJSON, "", "not valid JSON"},
		{"{\"v\":1,\"type\":\"not_ready\",\"reason\":\"\xff\"}", softphone.CodeBadJSON, "", "UTF-8"},
		{`{"type":"ping"}`, softphone.CodeVersion, "ping", `missing "v"`},
		{`{"v":2,"type":"ping"}`, softphone.CodeVersion, "ping", "version 2"},
		{`{"v":"1","type":"ping"}`, softphone.CodeBadJSON, "", "not valid JSON"},
		{`{"v":1}`, softphone.CodeUnknownType, "", `missing "type"`},
		{`{"v":1,"type":"dance"}`, softphone.CodeUnknownType, "dance", "unknown message type"},
		{`{"v":1,"type":"accept"}`, softphone.CodeInvalid, "accept", `missing "call_id"`},
		{`{"v":1,"type":"accept","call_id":7}`, softphone.CodeInvalid, "accept", "cannot unmarshal"},
		{`{"v":1,"type":"hold","call_id":"c1"}`, softphone.CodeInvalid, "hold", `missing "on"`},
		{`{"v":1,"type":"not_ready"}`, softphone.CodeInvalid, "not_ready", `missing "reason"`},
		{`{"v":1,"type":"pause_recording","call_id":"c1"}`, softphone.CodeInvalid, "pause_recording", `missing "on"`},
		{`{"v":1,"type":"pause_recording","on":true}`, softphone.CodeInvalid, "pause_recording", `missing "call_id"`},
		{`{"v":1,"type":"pause_recording","call_id":"c1","on":"yes"}`, softphone.CodeInvalid, "pause_recording", "cannot unmarshal"},
		{`{"v":1,"type":"mute","call_id":"c1"}`, softphone.CodeInvalid, "mute", `missing "on"`},
		{`{"v":1,"type":"mute","on":false}`, softphone.CodeInvalid, "mute", `missing "call_id"`},
		{`{"v":1,"type":"call","call_id":"c1","status":"connected","recording":"` + strings.Repeat("r", 65) + `"}`,
			softphone.CodeInvalid, "call", "longer than 64"},
		{`{"v":1,"type":"dtmf","call_id":"c1","digits":"12x"}`, softphone.CodeInvalid, "dtmf", "not a DTMF digit"},
		{`{"v":1,"type":"dtmf","call_id":"c1"}`, softphone.CodeInvalid, "dtmf", `missing "digits"`},
		{`{"v":1,"type":"dtmf","call_id":"c1","digits":"` + strings.Repeat("1", 33) + `"}`, softphone.CodeInvalid, "dtmf", "at most 32"},
		{`{"v":1,"type":"transfer","call_id":"c1"}`, softphone.CodeInvalid, "transfer", "exactly one"},
		{`{"v":1,"type":"transfer","call_id":"c1","queue":"a","agent":"b"}`, softphone.CodeInvalid, "transfer", "exactly one"},
		{`{"v":1,"type":"webrtc_offer"}`, softphone.CodeInvalid, "webrtc_offer", `missing "sdp"`},
		{`{"v":1,"type":"webrtc_offer","sdp":"hello"}`, softphone.CodeInvalid, "webrtc_offer", "v=0"},
		{`{"v":1,"type":"ping","t":1.5}`, softphone.CodeInvalid, "ping", "cannot unmarshal"},
		{`{"v":1,"type":"accept","call_id":"` + strings.Repeat("x", 129) + `"}`, softphone.CodeInvalid, "accept", "longer than 128"},
		{`{"v":1,"type":"wrapup_done","call_id":"c","note":"` + strings.Repeat("n", 4001) + `"}`, softphone.CodeInvalid, "wrapup_done", "longer than 4000"},
		{`{"v":1,"type":"ping","pad":"` + strings.Repeat(" ", softphone.MaxMessageBytes) + `"}`, softphone.CodeTooLarge, "", "limit"},
	}
	for _, tc := range tests {
		name := tc.in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			m, err := softphone.Decode([]byte(tc.in))
			require.Nil(t, m)
			var pe *softphone.Error
			require.True(t, errors.As(err, &pe), "error %v is not a *softphone.Error", err)
			require.Equal(t, tc.code, pe.Code)
			require.Equal(t, tc.ref, pe.Ref)
			require.Contains(t, pe.Message, tc.msg)
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	msgs := []softphone.Message{
		softphone.Hello{},
		softphone.Pong{T: 42},
		softphone.WebRTCAnswer{SDP: "v=0\r\ns=-\r\n"},
		softphone.State{State: softphone.StateNotReady, Reason: "missed call", Since: 1732490000000},
		softphone.Welcome{
			Agent: softphone.AgentInfo{ID: "a1", Name: "Anna"}, State: softphone.StateOnCall, Since: 5,
			Reasons:    []string{"lunch", "training"},
			ICEServers: []softphone.ICEServer{{URLs: []string{"stun:127.0.0.1:3478"}}},
			Call:       &softphone.Call{CallID: "c1", Status: softphone.CallConnected, From: "+100", Queue: "support"},
			Queues:     []string{"support", "billing"},
			Agents:     []string{"boris"},
		},
		softphone.Ring{
			CallID: "c1", From: "+100", Queue: "support", Language: "ru", TimeoutMS: 15000,
			Vars: map[string]string{"serial": "SN-1"}, IVRPath: []string{"2", "1"},
			Tickets: []softphone.Ticket{{Number: "T-1", Subject: "printer <jam>", Status: "open"}},
		},
		softphone.RingCancel{CallID: "c1", Reason: "caller_hangup"},
		softphone.Call{CallID: "c1", Status: softphone.CallEnded, From: "+100", Queue: "support", EndedBy: "caller"},
		softphone.Error{Code: softphone.CodeForbidden, Message: "not your call", Ref: "accept"},
		softphone.Hold{CallID: "c1", On: false},
		softphone.PauseRecording{CallID: "c1", On: true},
		softphone.PauseRecording{CallID: "c1", On: false},
		softphone.Mute{CallID: "c1", On: true},
		softphone.Mute{CallID: "c1", On: false},
		softphone.Call{CallID: "c1", Status: softphone.CallConnected, From: "+100", Queue: "support",
			Recording: softphone.RecordingPaused},
	}
	for _, m := range msgs {
		t.Run(m.Type(), func(t *testing.T) {
			b, err := softphone.Encode(m)
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(b, []byte(`{"v":1,"type":"`+m.Type()+`"`)), "%s", b)
			require.NotContains(t, string(b), `\u003c`, "HTML is not escaped")
			got, err := softphone.Decode(b)
			require.NoError(t, err)
			require.Equal(t, m, got)
		})
	}
}

// The transfer targets in welcome are optional fields with these names.
func TestWelcomeTransferTargets(t *testing.T) {
	w := softphone.Welcome{Agent: softphone.AgentInfo{ID: "a1"}, State: softphone.StateReady, Reasons: []string{}, ICEServers: []softphone.ICEServer{}}
	b, err := softphone.Encode(w)
	require.NoError(t, err)
	require.NotContains(t, string(b), `"queues"`)
	require.NotContains(t, string(b), `"agents"`)

	w.Queues, w.Agents = []string{"support"}, []string{"boris", "vera"}
	b, err = softphone.Encode(w)
	require.NoError(t, err)
	require.Contains(t, string(b), `"queues":["support"],"agents":["boris","vera"]`)
}

// The recording state of a call is optional: absent when the call is not
// recorded, "on" or "paused" otherwise; the "on" of pause_recording and
// mute is always sent, false included.
func TestCallRecordingField(t *testing.T) {
	b, err := softphone.Encode(softphone.Call{CallID: "c1", Status: softphone.CallConnected})
	require.NoError(t, err)
	require.NotContains(t, string(b), `"recording"`)
	b, err = softphone.Encode(softphone.Call{CallID: "c1", Status: softphone.CallConnected, Recording: softphone.RecordingOn})
	require.NoError(t, err)
	require.Contains(t, string(b), `"recording":"on"`)

	b, err = softphone.Encode(softphone.PauseRecording{CallID: "c1"})
	require.NoError(t, err)
	require.Equal(t, `{"v":1,"type":"pause_recording","call_id":"c1","on":false}`, string(b))
	b, err = softphone.Encode(softphone.Mute{CallID: "c1", On: true})
	require.NoError(t, err)
	require.Equal(t, `{"v":1,"type":"mute","call_id":"c1","on":true}`, string(b))

	m, err := softphone.Decode([]byte(`{"v":1,"type":"welcome","agent":{"id":"a1"},"state":"on_call","since":1,` +
		`"reasons":[],"ice_servers":[],"call":{"call_id":"c1","status":"connected","from":"+1","queue":"q","recording":"paused"}}`))
	require.NoError(t, err)
	require.Equal(t, softphone.RecordingPaused, m.(softphone.Welcome).Call.Recording, "a reloaded page sees the pause")
}

func TestErrorIsAnError(t *testing.T) {
	var err error = &softphone.Error{Code: softphone.CodeForbidden, Message: "not your call", Ref: "accept"}
	require.Equal(t, "softphone: accept: forbidden: not your call", err.Error())
}

func TestIsCommand(t *testing.T) {
	require.True(t, softphone.IsCommand(softphone.Accept{CallID: "c"}))
	require.True(t, softphone.IsCommand(softphone.WrapupDone{CallID: "c"}))
	require.True(t, softphone.IsCommand(softphone.PauseRecording{CallID: "c", On: true}))
	require.True(t, softphone.IsCommand(softphone.Mute{CallID: "c"}))
	require.True(t, softphone.FromBrowser(softphone.TypePauseRecording))
	require.True(t, softphone.FromBrowser(softphone.TypeMute))
	require.False(t, softphone.FromBrowser(softphone.TypeCall))
	require.False(t, softphone.IsCommand(softphone.Ping{}))
	require.False(t, softphone.IsCommand(softphone.Ring{}))
	require.False(t, softphone.FromBrowser(softphone.TypeRing))
	require.True(t, softphone.FromBrowser(softphone.TypeICE))
}

// FuzzDecode: Decode never panics, and what it accepts survives an
// Encode/Decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"hello"}`,
		`{"v":1,"type":"hold","call_id":"c1","on":true}`,
		`{"v":1,"type":"dtmf","call_id":"c1","digits":"1#"}`,
		`{"v":1,"type":"pause_recording","call_id":"c1","on":true}`,
		`{"v":1,"type":"mute","call_id":"c1","on":false}`,
		`{"v":1,"type":"call","call_id":"c1","status":"connected","from":"+1","queue":"q","recording":"paused"}`,
		`{"v":1,"type":"ring","call_id":"c1","from":"+1","queue":"q","vars":{"serial":"x"},"timeout_ms":1}`,
		`{"v":2,"type":"ping"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := softphone.Decode(data)
		if err != nil {
			var pe *softphone.Error
			require.True(t, errors.As(err, &pe))
			require.NotEmpty(t, pe.Code)
			require.Nil(t, m)
			return
		}
		if len(data) > softphone.MaxMessageBytes/2 {
			return
		}
		b1, err := softphone.Encode(m)
		require.NoError(t, err)
		m2, err := softphone.Decode(b1)
		require.NoError(t, err, "%s", b1)
		b2, err := softphone.Encode(m2)
		require.NoError(t, err)
		require.Equal(t, string(b1), string(b2))
	})
}
