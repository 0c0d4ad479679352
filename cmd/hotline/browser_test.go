package main

// End-to-end tests with a real browser: Debian's headless Chromium (driven by
// internal/web/browsertest, fake microphone playing a tone) signs in on the
// node's own pages and takes calls a SIP test phone routes through the IVR
// into the support queue. Audio is checked both ways: the caller's tone in
// the page (Web Audio analyser), the browser's microphone tone at the caller.
//
// One browser and one node serve the whole file; the subtests run in order.
// Each opens its own tab (a Page belongs to one test); the browser keeps
// anna's session cookie, so after the sign-in subtest a new tab goes straight
// to the agent page.

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/sipptest"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/web/browsertest"
	"github.com/hotline/hotline/sip/siptest"
)

const (
	micHz    = 1000 // the browser's fake microphone
	callerHz = 600  // what the caller says
	// minLevel is the page's remote level that counts as hearing a tone: a
	// 0.3 tone measures about 0.2, silence about 0.
	minLevel = 0.03
)

func TestBrowser(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	password := n.addUser("anna", store.RoleAgent)
	br := browsertest.Start(t, browsertest.Options{MicToneHz: micHz})
	base := "http://" + n.HTTPAddr()

	t.Run("wrong password", func(t *testing.T) {
		p := br.NewPage(t)
		p.Open(base + "/login")
		// Record what the API answered the page.
		browsertest.Eval[bool](p, `(() => {
			window.__statuses = [];
			const f = window.fetch;
			window.fetch = async (...args) => {
				const r = await f(...args);
				window.__statuses.push(String(args[0]) + ' ' + r.status);
				return r;
			};
			return true;
		})()`)
		p.Type("#login-user", "anna")
		p.Type("#login-pass", "not the password")
		p.Click("#login-submit")
		require.Equal(t, "Wrong user name or password.", p.WaitText("#login-error", "Wrong"))
		require.Equal(t, []string{"/api/v1/login 401"}, browsertest.Eval[[]string](p, `window.__statuses`))
		require.Equal(t, "/login", browsertest.Eval[string](p, `location.pathname`), "a refused sign-in stays on the page")
		require.Empty(t, browsertest.Eval[string](p, `document.getElementById('login-pass').value`), "a refused password is cleared")
	})

	t.Run("sign in, ring, accept, audio both ways, reload", func(t *testing.T) {
		// The agent page without a session sends anna to the sign-in page
		// and back.
		p := br.NewPage(t)
		signInPage(t, p, base+"/agent/?audio=raw", "anna", password)
		p.WaitVisible("#ready")
		require.Equal(t, "/agent/", browsertest.Eval[string](p, `location.pathname`))
		require.Contains(t, browsertest.Eval[string](p, `location.search`), "audio=raw")
		p.WaitText("#agent-name", "Anna")
		p.WaitText("#conn", "Connected")
		p.Click("#ready")
		waitPageState(t, p, softphone.StateReady, "Ready")
		p.WaitTrue(`hotlineAgent.rtc() === 'connected'`) // set up at sign-in, before any call

		call := dialSupport(t, n, testSerial)
		p.WaitVisible("#ring")
		require.Equal(t, testSerial, p.Text("#ring-serial"))
		require.Equal(t, "support", p.Text("#ring-queue"))
		require.Equal(t, "English", p.Text("#ring-language"))
		require.Equal(t, "English → Technical support", p.Text("#ring-ivr"), "the demo flow's labels, not its node ids")
		from := callerNumber(t, n, call)
		require.NotEmpty(t, from)
		require.Equal(t, from, p.Text("#ring-from"))
		waitPageState(t, p, softphone.StateOffered, "Ringing")

		p.Click("#accept")
		p.WaitVisible("#call")
		p.WaitHidden("#ring")
		waitPageState(t, p, softphone.StateOnCall, "On a call")
		require.Equal(t, from, p.Text("#call-from"))
		require.Equal(t, testSerial, p.Text("#call-serial"))
		require.Equal(t, "Connected", p.Text("#call-status"))

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var speaking sync.WaitGroup
		t.Cleanup(speaking.Wait) // after cancel (cleanups run last first)
		t.Cleanup(cancel)
		say := func() {
			speaking.Go(func() { _ = call.Say(ctx, media.Tone([]float64{callerHz}, 4*time.Second, 0.3)) })
		}

		// The caller's voice reaches the page, and the page's microphone
		// reaches the caller.
		say()
		heard := p.WaitRemoteLevel(callerHz, minLevel)
		other := p.RemoteLevel(1500)
		t.Logf("page hears %.4f at %d Hz, %.4f at 1500 Hz", heard, callerHz, other)
		require.Greater(t, heard, 5*other, "the caller's tone stands out in the page")
		require.NoError(t, call.WaitTone(ctx, micHz, 200*time.Millisecond), "the browser's microphone never reached the caller")

		// Muted, the caller stops hearing the microphone: so the tone heard
		// after the reload below comes from the reloaded page.
		unmuted := call.Level(micHz, 200*time.Millisecond)
		p.Click("#mute")
		require.Eventually(t, func() bool { return call.Level(micHz, 200*time.Millisecond) < 0.001 },
			5*time.Second, 50*time.Millisecond, "the caller still hears the muted microphone")
		t.Logf("caller hears the microphone at %.4f, muted %.6f", unmuted, call.Level(micHz, 200*time.Millisecond))
		require.Greater(t, unmuted, 0.01)

		// A reload during the call: the page comes back to the live call
		// within a few seconds, audio flows both ways again, and the caller
		// was never dropped.
		p.Reload()
		reloaded := time.Now()
		p.WaitVisible("#call")
		require.Equal(t, from, p.Text("#call-from"))
		require.Equal(t, testSerial, p.Text("#call-serial"))
		waitPageState(t, p, softphone.StateOnCall, "On a call")
		require.False(t, browsertest.Eval[bool](p, `hotlineAgent.muted()`), "the reloaded page starts unmuted")
		require.NoError(t, call.WaitTone(ctx, micHz, 200*time.Millisecond), "after the reload the microphone never reached the caller")
		t.Logf("the caller hears the reloaded page %v after the reload", time.Since(reloaded).Round(time.Millisecond))
		speaking.Wait() // the first tone is over; the caller speaks again
		say()
		p.WaitRemoteLevel(callerHz, minLevel)
		select {
		case <-call.Done():
			t.Fatal("the caller was dropped because the page reloaded")
		default:
		}

		// The agent hangs up, finishes wrap-up, and is ready for the next call.
		p.Click("#hangup")
		select {
		case <-call.Done():
		case <-ctx.Done():
			t.Fatal("the caller never got BYE")
		}
		p.WaitText("#notice", "You ended the call.")
		p.WaitHidden("#call")
		// The queue's wrap-up (1 s) ends by itself.
		waitPageState(t, p, softphone.StateReady, "Ready")
		require.False(t, p.Visible("#wrapup"))
		d := n.waitEnded(call.CallID())
		require.Equal(t, "answered", d.Call.Outcome)
		noPageErrors(t, p)
	})

	t.Run("caller hangs up while ringing", func(t *testing.T) {
		p := readyPage(t, br, base)
		call := dialSupport(t, n, "")
		p.WaitVisible("#ring")
		require.True(t, browsertest.Eval[bool](p, `hotlineAgent.ringing()`), "the ring sound plays")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, call.Hangup(ctx))
		p.WaitHidden("#ring")
		p.WaitText("#notice", "The caller hung up before you answered.")
		require.False(t, browsertest.Eval[bool](p, `hotlineAgent.ringing()`), "the ring sound stops")
		waitPageState(t, p, softphone.StateReady, "Ready")
		require.Equal(t, "abandoned", n.waitEnded(call.CallID()).Call.Outcome)
		noPageErrors(t, p)
	})

	t.Run("ring no answer goes to the next agent", func(t *testing.T) {
		p := readyPage(t, br, base)
		boris := n.in(t).agent("boris") // the pure-Go softphone; the browser's cookies are anna's
		call := dialSupport(t, n, "")
		p.WaitVisible("#ring") // linear: anna first
		// anna does not answer within the queue's ring timeout (2 s).
		ring := waitMsg[softphone.Ring](t, boris, softphone.TypeRing)
		p.WaitHidden("#ring")
		p.WaitText("#notice", "The call was not answered in time and went to another agent.")
		waitPageState(t, p, softphone.StateNotReady, "Not ready")
		p.WaitText("#state-reason", "Missed call")
		require.False(t, browsertest.Eval[bool](p, `hotlineAgent.ringing()`), "the ring sound stops")

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, boris.Send(ctx, softphone.Accept{CallID: ring.CallID}))
		require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, boris, softphone.TypeCall).Status)
		require.NoError(t, call.Hangup(ctx))
		d := n.waitEnded(call.CallID())
		require.Equal(t, "answered", d.Call.Outcome)
		var answeredBy string
		for _, e := range d.Events {
			if e.Kind == "agent_answered" {
				answeredBy = e.Detail
			}
		}
		require.Equal(t, "boris", answeredBy)
		noPageErrors(t, p)
	})

	t.Run("a SIPp caller's serial pops their ticket, the agent attaches the call", func(t *testing.T) {
		var tk ticketJSON
		require.Equal(t, 201, n.in(t).api(nil, "POST", "/api/v1/tickets", map[string]string{
			"subject": "Router reboots every night", "serial": testSerial, "status": "open", "queue": "support",
		}, &tk))
		p := readyPage(t, br, base)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		sipp := make(chan error, 1)
		go func() {
			res, err := sipptest.Run(ctx, sipptest.Options{
				Scenario: serialCallerScenario(t, "11"+testSerial+"#1"), Target: n.SIPAddr().String(),
				Service: "support", Calls: 1, Keys: map[string]string{"hold": "15000"}, Timeout: 50 * time.Second,
			})
			if err == nil {
				err = res.Err()
			}
			sipp <- err
		}()

		p.WaitVisible("#ring")
		require.Equal(t, testSerial, p.Text("#ring-serial"))
		item := `#ticket-list li.ticket-item[data-number="` + tk.ID + `"]`
		p.WaitVisible(item)
		require.Contains(t, p.Text(item+" .ticket-subject"), "Router reboots every night")
		p.Click("#accept")
		p.WaitVisible("#call")
		p.Click(item + " button.ticket-attach")
		p.WaitText("#ticket-attached", tk.ID)

		var got ticketJSON
		require.Eventually(t, func() bool {
			require.Equal(t, 200, n.in(t).api(nil, "GET", "/api/v1/tickets/"+tk.ID, nil, &got))
			return len(got.Calls) == 1
		}, 10*time.Second, 50*time.Millisecond, "the API shows the call linked")
		var d callDetail
		require.Equal(t, 200, n.in(t).getJSON("/api/v1/calls/"+got.Calls[0].CallID, &d))
		require.Equal(t, testSerial, d.Call.Vars["serial"], "the linked call is the SIPp caller's")
		require.Equal(t, "anna", got.Calls[0].By)
		require.NoError(t, <-sipp, "the SIPp caller hung up normally after its hold")
		waitPageState(t, p, softphone.StateReady, "Ready")
		noPageErrors(t, p)
	})
}

// serialCallerScenario writes a copy of SIPp's IVR caller scenario whose
// digits are digits (RFC 4733, 300 ms apart), with its media files, into a
// temp folder, and returns its path.
func serialCallerScenario(t *testing.T, digits string) string {
	t.Helper()
	src := "../../internal/sipptest/testdata"
	dir := t.TempDir()
	xml, err := os.ReadFile(filepath.Join(src, "ivr_caller.xml"))
	require.NoError(t, err)
	edited := strings.Replace(string(xml), `play_pcap_audio="dtmf_11hash.pcap"`, `play_pcap_audio="dtmf_serial.pcap"`, 1)
	require.NotEqual(t, string(xml), edited, "the scenario plays its digits from a pcap")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ivr_caller.xml"), []byte(edited), 0o644))
	for _, name := range sipptest.MediaFiles() {
		b, err := os.ReadFile(filepath.Join(src, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	f, err := os.Create(filepath.Join(dir, "dtmf_serial.pcap"))
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, sipptest.WriteDTMFPcap(f, sipptest.DTMFPcap{Digits: digits, Gap: 300 * time.Millisecond}))
	return filepath.Join(dir, "ivr_caller.xml")
}

// readyPage opens the agent page in a new tab with the browser's session,
// and clicks Ready.
func readyPage(t *testing.T, br *browsertest.Browser, base string) *browsertest.Page {
	t.Helper()
	p := br.NewPage(t)
	p.Open(base + "/agent/?audio=raw")
	p.WaitText("#conn", "Connected")
	p.WaitTrue(`hotlineAgent.state() !== 'signed_out'`) // welcome arrived
	if browsertest.Eval[string](p, `hotlineAgent.state()`) != softphone.StateReady {
		p.Click("#ready")
	}
	waitPageState(t, p, softphone.StateReady, "Ready")
	p.WaitTrue(`hotlineAgent.rtc() === 'connected'`)
	return p
}

// noPageErrors fails t if the page threw or logged an error.
func noPageErrors(t *testing.T, p *browsertest.Page) {
	t.Helper()
	for _, line := range p.Console() {
		require.False(t, strings.HasPrefix(line, "uncaught") || strings.HasPrefix(line, "console.error"), "page error: %s", line)
	}
}

// in returns the node bound to a subtest, so helpers that fail the test or
// register cleanups (addUser, agent) do so on that subtest.
func (n *testNode) in(t *testing.T) *testNode {
	c := *n
	c.t = t
	return &c
}

// waitPageState waits until the agent page shows the state, by its code and
// by the words on screen.
func waitPageState(t *testing.T, p *browsertest.Page, state, text string) {
	t.Helper()
	p.WaitTrue(`hotlineAgent.state() === '` + state + `'`)
	require.Equal(t, text, p.Text("#state"))
}

// callerNumber is the caller's number as the node recorded the call.
func callerNumber(t *testing.T, n *testNode, call *siptest.PhoneCall) string {
	t.Helper()
	var list struct{ Calls []httpapi.CallJSON }
	require.Equal(t, http.StatusOK, n.in(t).getJSON("/api/v1/calls?limit=100", &list))
	for _, c := range list.Calls {
		if c.SIPCallID == call.CallID() {
			return c.From
		}
	}
	t.Fatalf("call %s is not in the call list", call.CallID())
	return ""
}

// The supervisor's page against a real node, in Chromium: a caller waiting
// in billing shows within a second, clears within a second of hanging up;
// the tile's figures are the API's; the report downloads as CSV; Russian
// renders.
func TestSupervisorPage(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	password := n.addUser("sam", store.RoleSupervisor)
	br := browsertest.Start(t, browsertest.Options{MicToneHz: micHz})
	base := "http://" + n.HTTPAddr()
	p := br.NewPage(t)
	signInPage(t, p, base+"/supervisor/", "sam", password)
	p.WaitVisible("#tile-billing")
	p.WaitText("#conn", "Connected")
	require.Equal(t, "0", p.Text("#tile-billing .tile-waiting"))

	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	press(t, call, "12", media.SourceRFC4733)
	hear(t, call, holdTone)
	queued := time.Now()
	p.WaitText("#tile-billing .tile-waiting", "1")
	require.Less(t, time.Since(queued), 1500*time.Millisecond, "the waiting caller shows within about a second")

	require.NoError(t, call.Hangup(ctx))
	left := time.Now()
	p.WaitText("#tile-billing .tile-waiting", "0")
	require.Less(t, time.Since(left), 1500*time.Millisecond, "the caller who left clears within about a second")
	n.waitEnded(call.CallID())

	// The CSV link downloads the report the API gives.
	href := browsertest.Eval[string](p, `document.getElementById('h-csv').href`)
	require.Contains(t, href, "format=csv")
	csv := browsertest.Eval[string](p, `fetch(document.getElementById('h-csv').href).then(r => r.status + ' ' + r.headers.get('content-type'))`)
	require.Equal(t, "200 text/csv; charset=utf-8", csv)

	p.Open(base + "/supervisor/?lang=ru")
	p.WaitVisible("#tile-billing")
	require.NotContains(t, p.Text("#sup-content"), "Waiting", "the Russian page has no English labels left")
	noPageErrors(t, p)
}

// Listening in from the supervisor page, in Chromium: sam signs in and lands
// on the supervisor page (he is in no queue), whose softphone connects as
// signed out; on anna's live call he clicks Listen and hears the caller and
// anna, switches to Whisper and anna hears his microphone while the caller
// does not, and Stop leaves the call. (An agent's 403 on the monitor API is
// in TestSupervisorMonitorsWhispersBarges.)
func TestSupervisorListensFromThePage(t *testing.T) {
	const annaHz = 1500 // anna's softphone; sam's fake microphone plays micHz
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	password := n.addUser("sam", store.RoleSupervisor)
	br := browsertest.Start(t, browsertest.Options{MicToneHz: micHz})
	base := "http://" + n.HTTPAddr()
	p := br.NewPage(t)
	p.Open(base + "/login")
	p.Type("#login-user", "sam")
	p.Type("#login-pass", password)
	p.Click("#login-submit")
	p.WaitVisible("#sup-content")
	require.Equal(t, "/supervisor/", browsertest.Eval[string](p, `location.pathname`), "a supervisor lands on the supervisor page")

	// The fake tone needs the microphone without voice processing.
	p.Open(base + "/supervisor/?audio=raw")
	p.WaitVisible("#sup-content")
	p.WaitTrue(`hotlineSupervisor.rtc() === 'connected'`)
	p.WaitText("#phone-conn", "Softphone connected")

	anna := n.agent("anna")
	anna.SetTone(annaHz)
	call := dialSupport(t, n, testSerial)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	go func() { _ = call.Say(ctx, media.Tone([]float64{callerHz}, time.Minute, 0.3)) }()

	// Listen.
	p.WaitTrue(`!document.getElementById('mon-listen-anna').disabled && !document.getElementById('mon-listen-anna').closest('.ag-monitor').hidden`)
	require.True(t, p.Visible("#monitor-none"))
	p.Click("#mon-listen-anna")
	p.WaitTrue(`hotlineSupervisor.monitor() === '` + ring.CallID + ` listen'`)
	require.Equal(t, "Listening", p.Text("#monitor-mode"))
	require.Contains(t, p.Text("#monitor-what"), "anna")
	require.Contains(t, p.Text("#monitor-what"), "support")
	require.Equal(t, "listen", browsertest.Eval[string](p, `document.getElementById('agent-anna').dataset.monitored`))
	caller := p.WaitRemoteLevel(callerHz, minLevel)
	agent := p.WaitRemoteLevel(annaHz, minLevel)
	t.Logf("listen: the page hears the caller %.3f, anna %.3f", caller, agent)
	const window = 300 * time.Millisecond
	time.Sleep(window + 100*time.Millisecond)
	require.Less(t, anna.Heard(micHz, window), 0.002, "in listen anna does not hear sam")

	// Whisper: anna hears sam's microphone, the caller does not.
	p.Click("#monitor-whisper")
	p.WaitTrue(`hotlineSupervisor.monitor() === '` + ring.CallID + ` whisper'`)
	require.Equal(t, "Whispering", p.Text("#monitor-mode"))
	require.Eventually(t, func() bool { return anna.Heard(micHz, window) > 0.01 }, 10*time.Second, 20*time.Millisecond,
		"anna hears sam's whisper")
	time.Sleep(window + 100*time.Millisecond)
	require.Less(t, call.Level(micHz, window), 0.002, "the caller does not hear the whisper")
	require.Greater(t, p.RemoteLevel(callerHz), minLevel, "sam still hears the caller")

	// Stop.
	p.Click("#monitor-stop")
	p.WaitTrue(`hotlineSupervisor.monitor() === ''`)
	p.WaitVisible("#monitor-none")
	p.WaitText("#monitor-ended", "You left the call")
	require.Equal(t, "", browsertest.Eval[string](p, `document.getElementById('agent-anna').dataset.monitored`))
	require.NoError(t, call.Hangup(ctx))
	n.waitEnded(call.CallID())
	noPageErrors(t, p)
}

// signInPage opens url on p, which shows the sign-in form first, and signs
// in as user.
func signInPage(t *testing.T, p *browsertest.Page, url, user, password string) {
	t.Helper()
	p.Open(url)
	p.WaitVisible("#login-submit")
	p.Type("#login-user", user)
	p.Type("#login-pass", password)
	p.Click("#login-submit")
}
