package main

// Issue 14, finding 4: a hotline killed with SIGKILL while calls are live
// (in the IVR, waiting in the queue, talking to an agent). The process that
// starts next closes every call the dead one left open, as crashed, and signs
// off the agent it had on a call; the IVR rows keep how far the callers got.

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/store/pgtest"
	"github.com/hotline/hotline/sip/siptest"
)

func TestKilledHotlineLeavesNoCallOpen(t *testing.T) { testKilledCallsClosed(t, "") }

func TestKilledHotlineLeavesNoCallOpenPostgres(t *testing.T) {
	testKilledCallsClosed(t, pgtest.Start(t).CreateDB(t))
}

// crashNode names the node in the tests' configuration.
const crashNode = "crash-test-node"

// ivrDigits take a caller to the support line's serial number, of which
// they type half: the flow waits for the rest (inter_digit 5s).
const ivrDigits = "114711"

func testKilledCallsClosed(t *testing.T, database string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hl := newProcessHotline(t, ctx, "46000-46999", `data_dir: "DATA", database: "`+database+`", node: `+crashNode)
	data, work, password := hl.data, hl.work, hl.password
	stCfg := store.Config{DataDir: data, Database: database}
	st, err := store.Open(ctx, stCfg, nil)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(ctx))
	hl.addAnna(st)
	start := hl.start
	first := start("first")
	defer func() {
		if t.Failed() {
			for _, name := range []string{"first", "second"} {
				b, _ := os.ReadFile(filepath.Join(work, name+".log"))
				t.Logf("%s hotline log:\n%s", name, b)
			}
		}
	}()
	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	dial := func(digits string) *siptest.PhoneCall {
		call, err := phone.Dial(ctx, "sip:support@"+first.SIPAddr(), siptest.DialOptions{})
		require.NoError(t, err)
		press(t, call, digits, media.SourceRFC4733)
		return call
	}

	// anna takes one call and is on it when the process dies.
	cookie, status := loginAt(t, first.HTTPAddr(), "anna", password)
	require.Equal(t, 200, status)
	anna, _ := connectAgent(t, first.HTTPAddr(), cookie)
	talking := dial("11#")
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)

	// Three wait in the queue (anna is busy, boris is not signed in), and
	// three are in the middle of typing their serial number.
	bySIP := map[string]string{talking.CallID(): "agent"}
	for range 3 {
		bySIP[dial("11#").CallID()] = "queued"
	}
	for range 3 {
		bySIP[dial(ivrDigits).CallID()] = "ivr"
	}
	// Wait until the store shows every call where it is (the IVR's digits
	// too), then kill the process before the IVR times the callers out.
	require.Eventually(t, func() bool {
		calls, _, err := st.ListCalls(ctx, store.Page{Limit: 100})
		require.NoError(t, err)
		where := 0
		for _, c := range calls {
			switch bySIP[c.SIPCallID] {
			case "agent":
				if c.Agent == "anna" {
					where++
				}
			case "queued":
				if c.QueuedAt != nil {
					where++
				}
			case "ivr":
				if c.Digits == ivrDigits {
					where++
				}
			}
		}
		return where == len(bySIP)
	}, 4*time.Second, 20*time.Millisecond, "every live call shows where it is, the IVR's path and digits included")

	killed := time.Now()
	require.NoError(t, syscall.Kill(first.PID(), syscall.SIGKILL))
	_ = first.Close()

	second := start("second")
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(work, "second.log"))
		require.NoError(t, err)
		return strings.Contains(string(b), "closed calls left open by a crash")
	}, 10*time.Second, 50*time.Millisecond, "the next process closes the calls")
	// The ACD is in memory: after the restart every agent is signed out.
	require.Eventually(t, func() bool {
		states := agentStates(t, second.HTTPAddr())
		return states["signed_out"] == 2 && len(states) == 1
	}, 5*time.Second, 100*time.Millisecond, "a restarted node has every agent signed out")
	require.NoError(t, second.Close())

	calls, _, err := st.ListCalls(ctx, store.Page{Limit: 100})
	require.NoError(t, err)
	require.Len(t, calls, len(bySIP))
	for _, c := range calls {
		kind := bySIP[c.SIPCallID]
		require.NotEmpty(t, kind, "a call of the test: %s", c.SIPCallID)
		require.NotNil(t, c.EndedAt, "%s call %s has an end", kind, c.ID)
		require.Equal(t, store.OutcomeCrashed, c.Outcome, kind)
		require.Equal(t, "hotline", c.HangupSide, kind)
		require.Equal(t, "crashed", c.HangupCause, kind)
		require.Equal(t, crashNode, c.Node, kind)
		require.False(t, c.EndedAt.Before(c.ArrivedAt), "%s: ended at %s, arrived at %s", kind, c.EndedAt, c.ArrivedAt)
		require.False(t, c.EndedAt.After(killed), "%s: ended at %s, killed at %s", kind, c.EndedAt, killed)
		switch kind {
		case "ivr":
			require.Equal(t, ivrDigits, c.Digits)
			require.Equal(t, []string{"hours", "welcome", "choose-language", "main", "enter-serial"}, c.IVRPath)
			require.Equal(t, "en", c.Language)
		case "queued":
			require.Equal(t, "support", c.Queue)
			require.NotNil(t, c.QueuedAt)
		case "agent":
			require.Equal(t, "anna", c.Agent)
			require.NotNil(t, c.ConnectedAt)
		}
		_, events, err := st.GetCall(ctx, c.ID)
		require.NoError(t, err)
		last := events[len(events)-1]
		require.Equal(t, store.EventCrashed, last.Kind, kind)
		require.Equal(t, *c.EndedAt, last.At, kind)
	}

	history, err := st.ListAgentEvents(ctx, "anna", killed.Add(-time.Hour), time.Now())
	require.NoError(t, err)
	require.NotEmpty(t, history)
	closing := history[len(history)-1]
	require.Equal(t, store.AgentSignedOut, closing.State)
	require.Equal(t, "crashed", closing.Reason)
	require.Equal(t, ring.CallID, closing.CallID)
	require.False(t, closing.At.After(killed))
	require.True(t, slices.ContainsFunc(history, func(e store.AgentEvent) bool { return e.State == "on_call" }))
}

// agentStates reads the hotline_agents gauge: agents by state.
func agentStates(t *testing.T, httpAddr string) map[string]int {
	t.Helper()
	res, err := http.Get("http://" + httpAddr + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := map[string]int{}
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, `hotline_agents{state="`)
		if !ok {
			continue
		}
		state, value, _ := strings.Cut(rest, `"} `)
		if n, err := strconv.ParseFloat(value, 64); err == nil && n > 0 {
			out[state] = int(n)
		}
	}
	return out
}
