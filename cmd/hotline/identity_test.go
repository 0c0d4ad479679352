package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/sipptest"
	"github.com/hotline/hotline/internal/softphone"
)

// assertedCallerScenario copies testdata/asserted_caller.xml and the SIPp
// media files it plays into a temp folder and returns the scenario's path.
func assertedCallerScenario(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	xml, err := os.ReadFile("testdata/asserted_caller.xml")
	require.NoError(t, err)
	path := filepath.Join(dir, "asserted_caller.xml")
	require.NoError(t, os.WriteFile(path, xml, 0o644))
	require.NoError(t, sipptest.WriteMediaFiles(dir))
	return path
}

// A SIPp caller whose INVITE carries P-Asserted-Identity rings the agent
// with that number and name when the trunk trusts it, and with From's
// (user part and display name) when it does not; the call row keeps the
// number shown.
func TestSIPpAssertedIdentityRingsAgent(t *testing.T) {
	for _, tc := range []struct {
		name         string
		trust        bool
		number, text string
	}{
		{"trusted trunk", true, "+79123456789", "Pat Doe"},
		{"untrusted trunk", false, "caller1", "SIPp caller"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trunk := "  trunks: [{name: carrier, flow: demo, inband_dtmf: auto, trust_asserted_identity: false}]\n"
			if tc.trust {
				trunk = "  trunks: [{name: carrier, flow: demo, inband_dtmf: auto, trust_asserted_identity: true}]\n"
			}
			n := startTestNode(t, nodeOptions{extra: agentQueues, sip: trunk})
			anna, _ := n.agentWelcome("anna")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			sipp := make(chan error, 1)
			go func() {
				res, err := sipptest.Run(ctx, sipptest.Options{
					Scenario: assertedCallerScenario(t), Target: n.SIPAddr().String(),
					Service: "support", Calls: 1, Keys: map[string]string{"hold": "3000"}, Timeout: 50 * time.Second,
				})
				if err == nil {
					err = res.Err()
				}
				sipp <- err
			}()

			ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
			require.Equal(t, "support", ring.Queue)
			require.Equal(t, tc.number, ring.From)
			require.NotNil(t, ring.Caller)
			require.Equal(t, tc.number, ring.Caller.Number)
			require.Equal(t, tc.text, ring.Caller.Name)
			require.NoError(t, <-sipp, "the SIPp caller hung up normally after its hold")

			var list struct{ Calls []httpapi.CallJSON }
			n.getJSON("/api/v1/calls", &list)
			require.Len(t, list.Calls, 1)
			require.Equal(t, tc.number, list.Calls[0].From)
		})
	}
}
