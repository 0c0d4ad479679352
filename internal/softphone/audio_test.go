package softphone_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
)

// A page whose media is up is not reported; once its peer connection is
// closed (the socket stays), the Hub reports the agent's lost audio to the
// Desk after AudioGrace, and again while it lasts; a page that never sets
// up its media is reported too. AudioGrace < 0 turns the check off.
func TestHubReportsLostAudio(t *testing.T) {
	r := newRig(t, softphone.Config{AudioGrace: 300 * time.Millisecond})
	anna, _ := r.dial(t, "anna", agentclient.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	require.NoError(t, anna.Connect(ctx))
	select {
	case a := <-r.desk.audio:
		t.Fatalf("%s reported while her media is up", a)
	case <-time.After(time.Second):
	}

	require.NoError(t, anna.CloseMedia())
	for range 2 {
		select {
		case a := <-r.desk.audio:
			require.Equal(t, "anna", a)
		case <-time.After(waitFor + 10*time.Second):
			t.Fatal("lost audio not reported")
		}
	}

	r.dial(t, "boris", agentclient.Options{})
	require.Eventually(t, func() bool {
		select {
		case a := <-r.desk.audio:
			return a == "boris"
		default:
			return false
		}
	}, waitFor, 50*time.Millisecond, "a page without media is reported")

	off := newRig(t, softphone.Config{AudioGrace: -1})
	off.dial(t, "carol", agentclient.Options{})
	select {
	case a := <-off.desk.audio:
		t.Fatalf("%s reported with the check off", a)
	case <-time.After(time.Second):
	}
}
