package main

// End-to-end tests: a whole hotline node in this process (the same startNodeWith
// that `hotline serve` runs) with the demo flow, called over loopback by real
// SIP peers: the project's test phone, SIPp and baresip. The prompts are
// replaced by pure tones, one frequency per prompt, so a test can hear which
// prompt is playing.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/config"
	"github.com/hotline/hotline/internal/demo"
	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/sip/siptest"
)

// toneOf is the frequency each demo prompt is replaced with; Russian prompts
// sound ruShift Hz higher, so a test can also hear the language.
var toneOf = map[string]float64{
	"welcome": 400, "choose-language": 500, "main-menu": 600, "enter-serial": 2000, "you-entered": 2200,
	"enter-ticket": 2400, "invalid": 2600, "no-input": 2800, "goodbye": 3000, "connecting": 3200, "closed": 3400,
	// The serial's read-back, the ticket status, voicemail.
	"confirm-entry": 750, "ticket-status-is": 850, "status-new": 1100, "status-open": 1200,
	"status-pending": 1300, "status-solved": 1400, "status-closed": 1500, "updated-today": 1850,
	"updated-yesterday": 1950, "updated": 2100, "days-ago": 2300, "ticket-unknown": 2500, "try-later": 2700,
	"leave-message": 2900, "beep": 3100, "voicemail-thanks": 3300,
}

// testSerial is a serial number the demo flow takes: 8 digits with a Luhn
// check digit.
const testSerial = "47114715"

const (
	ruShift   = 70
	digitTone = 350  // every digit-N, star and hash
	holdTone  = 1700 // the hold music
	toneLen   = 400 * time.Millisecond
)

// testAssets is the demo flow with tone prompts, laid out like a config folder.
func testAssets(t *testing.T, configYAML string) fstest.MapFS {
	t.Helper()
	flow, err := fs.ReadFile(demo.FS(), "flows/demo.yaml")
	require.NoError(t, err)
	fsys := fstest.MapFS{
		"config.yaml":     {Data: []byte(configYAML)},
		"flows/demo.yaml": {Data: flow},
		"music/hold.wav":  {Data: wav(t, holdTone, 2*time.Second)},
	}
	sayables := []string{"star", "hash"}
	for d := '0'; d <= '9'; d++ {
		sayables = append(sayables, "digit-"+string(d))
	}
	for _, lang := range []string{"en", "ru"} {
		shift := 0.0
		if lang == "ru" {
			shift = ruShift
		}
		for name, f := range toneOf {
			fsys["prompts/"+lang+"/"+name+".wav"] = &fstest.MapFile{Data: wav(t, f+shift, toneLen)}
		}
		for _, name := range sayables {
			fsys["prompts/"+lang+"/"+name+".wav"] = &fstest.MapFile{Data: wav(t, digitTone, 120*time.Millisecond)}
		}
	}
	return fsys
}

func wav(t *testing.T, freq float64, d time.Duration) []byte {
	var b bytes.Buffer
	require.NoError(t, media.WriteWAV(&b, media.Tone([]float64{freq}, d, 0.3).Samples))
	return b.Bytes()
}

// nodeOptions tunes a test node.
type nodeOptions struct {
	database string        // "" = SQLite in a temp dir
	drain    time.Duration // shutdown.drain_timeout
	rtpPorts string
	extra    string // more configuration (acd, softphone)
	// http adds entries to the http section after addr, as a YAML flow
	// mapping's ("tls_cert: a.pem, tls_key: b.pem"); extra cannot, since
	// the section is already there.
	http string
	// httpAddr is the http section's addr; "" = 127.0.0.1:0.
	httpAddr string
	// sip adds lines to the sip section ("  tls_listen: ...\n"); with a
	// trunks entry it replaces the default trunk.
	sip     string
	hooks   nodeHooks
	dataDir string // "" = a new temp dir; the same dir is a restart
	// flowEdit, when set, changes the demo flow's YAML before the node loads it.
	flowEdit func(flow string) string
}

// testNode is a running hotline for one test.
type testNode struct {
	*node
	t     *testing.T
	cfg   config.Config
	logs  *syncWriter
	token string // a supervisor API token for reading the API
}

func startTestNode(t *testing.T, o nodeOptions) *testNode {
	t.Helper()
	if o.drain == 0 {
		o.drain = 5 * time.Second
	}
	if o.rtpPorts == "" {
		o.rtpPorts = "40000-44999"
	}
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	if o.httpAddr == "" {
		o.httpAddr = "127.0.0.1:0"
	}
	httpEntries := ""
	if o.http != "" {
		httpEntries = ", " + o.http
	}
	sipEntries := o.sip
	if !strings.Contains(sipEntries, "trunks:") {
		sipEntries += "  trunks: [{name: test, flow: demo, inband_dtmf: auto}]\n"
	}
	yaml := fmt.Sprintf(`
sip:
  addr: 127.0.0.1:0
  ack_timeout: 5s
%shttp: {addr: %q%s}
rtp: {ip: 127.0.0.1, ports: %q, media_timeout: 10s, quarantine: 1s}
store: {data_dir: %q, database: %q}
prompts: {dir: prompts, languages: [en, ru], default_language: en}
hold_music: music/hold.wav
flows: {demo: flows/demo.yaml}
shutdown: {drain_timeout: %s}
log: {level: debug}
`, sipEntries, o.httpAddr, httpEntries, o.rtpPorts, o.dataDir, o.database, o.drain) + o.extra
	fsys := testAssets(t, yaml)
	if o.flowEdit != nil {
		f := fsys["flows/demo.yaml"]
		f.Data = []byte(o.flowEdit(string(f.Data)))
	}
	cfg, err := config.Load(fsys, "config.yaml")
	require.NoError(t, err)
	logs := &syncWriter{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, err := startNodeWith(context.Background(), cfg, fsys, log, o.hooks)
	require.NoError(t, err)
	secret, err := httpapi.GenerateAPIToken()
	require.NoError(t, err)
	require.NoError(t, n.store.CreateToken(context.Background(), store.APIToken{
		ID: uuid.NewString(), Name: "e2e-" + uuid.NewString(), Role: store.RoleSupervisor, Hash: store.TokenHash(secret), CreatedAt: time.Now(),
	}))
	tn := &testNode{node: n, t: t, cfg: cfg, logs: logs, token: secret}
	t.Cleanup(func() {
		_ = n.Shutdown(context.Background())
		if t.Failed() {
			t.Logf("hotline log:\n%s", logs.String())
		}
	})
	return tn
}

// uri is the SIP address a phone dials to reach the node.
func (n *testNode) uri(user string) string {
	return "sip:" + user + "@" + n.SIPAddr().String()
}

// getJSON GETs an API path and decodes the reply.
func (n *testNode) getJSON(path string, out any) int {
	n.t.Helper()
	req, err := http.NewRequest("GET", "http://"+n.HTTPAddr()+path, nil)
	require.NoError(n.t, err)
	req.Header.Set("Authorization", "Bearer "+n.token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(n.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(n.t, err)
	if out != nil {
		require.NoError(n.t, json.Unmarshal(body, out), string(body))
	}
	return res.StatusCode
}

type callDetail struct {
	Call   httpapi.CallJSON    `json:"call"`
	Events []httpapi.EventJSON `json:"events"`
}

// waitEnded polls the API until the call with this SIP Call-ID has ended.
func (n *testNode) waitEnded(sipCallID string) callDetail {
	n.t.Helper()
	var d callDetail
	require.Eventually(n.t, func() bool {
		var list struct{ Calls []httpapi.CallJSON }
		n.getJSON("/api/v1/calls?limit=100", &list)
		for _, c := range list.Calls {
			if c.SIPCallID == sipCallID && c.EndedAt != nil {
				n.getJSON("/api/v1/calls/"+c.ID, &d)
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "call %s never ended in the store", sipCallID)
	return d
}

func (n *testNode) metric(name string) string {
	res, err := http.Get("http://" + n.HTTPAddr() + "/metrics")
	require.NoError(n.t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimPrefix(line, name+" ")
		}
	}
	return ""
}

func newPhone(t *testing.T, o siptest.PhoneOptions) *siptest.Phone {
	t.Helper()
	p, err := siptest.NewPhone(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// hear waits until the phone hears the prompt's tone.
func hear(t *testing.T, c *siptest.PhoneCall, freq float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	require.NoError(t, c.WaitTone(ctx, freq, 100*time.Millisecond), "expected the %g Hz prompt", freq)
}

func press(t *testing.T, c *siptest.PhoneCall, digits string, how media.DigitSource) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.SendDigits(ctx, digits, how))
}

// syncWriter collects the node's log; the node writes from many goroutines
// while a test may read it.
type syncWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// String returns the log so far.
func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
