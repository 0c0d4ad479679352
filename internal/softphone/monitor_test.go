package softphone_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
)

// The monitor message and welcome's monitor field: wire names, a round
// trip, the required fields, and that a browser may not send it.
func TestMonitorMessage(t *testing.T) {
	m := softphone.Monitor{CallID: "c1", Mode: softphone.MonitorWhisper, From: "+100", Queue: "support", Agent: "anna"}
	b, err := softphone.Encode(m)
	require.NoError(t, err)
	require.JSONEq(t, `{"v":1,"type":"monitor","call_id":"c1","mode":"whisper","from":"+100","queue":"support","agent":"anna"}`, string(b))
	got, err := softphone.Decode(b)
	require.NoError(t, err)
	require.Equal(t, m, got)

	off := softphone.Monitor{CallID: "c1", Mode: softphone.MonitorOff, Reason: "hangup"}
	b, err = softphone.Encode(off)
	require.NoError(t, err)
	require.JSONEq(t, `{"v":1,"type":"monitor","call_id":"c1","mode":"off","reason":"hangup"}`, string(b))

	for _, raw := range []string{`{"v":1,"type":"monitor","mode":"listen"}`, `{"v":1,"type":"monitor","call_id":"c1"}`} {
		_, err := softphone.Decode([]byte(raw))
		var e *softphone.Error
		require.ErrorAs(t, err, &e, raw)
		require.Equal(t, softphone.CodeInvalid, e.Code, raw)
	}
	require.False(t, softphone.FromBrowser(softphone.TypeMonitor), "the server sends monitor; the API starts it")
	require.False(t, softphone.IsCommand(m))

	w := softphone.Welcome{Agent: softphone.AgentInfo{ID: "sam"}, State: softphone.StateSignedOut, Reasons: []string{},
		ICEServers: []softphone.ICEServer{}, Monitor: &m}
	b, err = softphone.Encode(w)
	require.NoError(t, err)
	require.Contains(t, string(b), `"monitor":{"call_id":"c1","mode":"whisper"`)
	back, err := softphone.Decode(b)
	require.NoError(t, err)
	require.Equal(t, w, back)
}
