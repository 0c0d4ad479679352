package softphone_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
)

func TestConsultMessages(t *testing.T) {
	for in, want := range map[string]softphone.Message{
		`{"v":1,"type":"consult","call_id":"c1","agent":"boris"}`: softphone.Consult{CallID: "c1", Agent: "boris"},
		`{"v":1,"type":"consult_accept","call_id":"c1"}`:          softphone.ConsultAccept{CallID: "c1"},
		`{"v":1,"type":"consult_reject","call_id":"c1"}`:          softphone.ConsultReject{CallID: "c1"},
		`{"v":1,"type":"consult_complete","call_id":"c1"}`:        softphone.ConsultComplete{CallID: "c1"},
		`{"v":1,"type":"consult_cancel","call_id":"c1"}`:          softphone.ConsultCancel{CallID: "c1"},
	} {
		m, err := softphone.Decode([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, want, m)
		require.True(t, softphone.FromBrowser(m.Type()))
		require.True(t, softphone.IsCommand(m))
	}
	_, err := softphone.Decode([]byte(`{"v":1,"type":"consult","call_id":"c1"}`))
	var e *softphone.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, softphone.CodeInvalid, e.Code)
	require.Equal(t, softphone.TypeConsult, e.Ref)

	out := softphone.Consultation{CallID: "c1", Role: softphone.ConsultTarget, Status: softphone.ConsultRinging, Agent: "anna", From: "1001", TimeoutMS: 2000}
	b, err := softphone.Encode(out)
	require.NoError(t, err)
	require.JSONEq(t, `{"v":1,"type":"consultation","call_id":"c1","role":"target","status":"ringing","agent":"anna","from":"1001","timeout_ms":2000}`, string(b))
	back, err := softphone.Decode(b)
	require.NoError(t, err)
	require.Equal(t, out, back)
	require.False(t, softphone.FromBrowser(softphone.TypeConsultation), "the server's message only")
}
