package softphone_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
)

// waitFor bounds every wait in these tests; audio normally flows well
// within a second.
const waitFor = 10 * time.Second

// detach is one Desk.Detached call.
type detach struct{ agent, reason string }

// command is one Desk.Command call.
type command struct {
	agent string
	m     softphone.Message
}

// fakeDesk records what the Hub tells the call center.
type fakeDesk struct {
	commands chan command
	detached chan detach
	audio    chan string                     // agents reported by AudioLost
	reply    func(m softphone.Message) error // Command's result; nil: accept
}

func newFakeDesk() *fakeDesk {
	return &fakeDesk{commands: make(chan command, 64), detached: make(chan detach, 16), audio: make(chan string, 16)}
}

func (d *fakeDesk) Attached(_ context.Context, agent string) (softphone.Welcome, error) {
	return softphone.Welcome{State: softphone.StateNotReady, Reason: "signed in", Since: 1000, Reasons: []string{"lunch"}}, nil
}

func (d *fakeDesk) Command(_ context.Context, agent string, m softphone.Message) error {
	d.commands <- command{agent, m}
	if d.reply != nil {
		return d.reply(m)
	}
	return nil
}

func (d *fakeDesk) Detached(agent, reason string) { d.detached <- detach{agent, reason} }

func (d *fakeDesk) AudioLost(agent string) {
	select {
	case d.audio <- agent:
	default:
	}
}

// rig is a Hub behind a real WebSocket endpoint on loopback. The agent id
// comes from the "agent" query parameter (the HTTP layer's job in
// production).
type rig struct {
	hub  *softphone.Hub
	desk *fakeDesk
	url  string
}

func newRig(t testing.TB, cfg softphone.Config) *rig {
	t.Helper()
	if cfg.UDPAddr == "" {
		cfg.UDPAddr = "127.0.0.1:0"
	}
	desk := newFakeDesk()
	hub, err := softphone.NewHub(cfg, desk, nil)
	require.NoError(t, err)
	var handlers sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		id := r.URL.Query().Get("agent")
		_ = hub.Serve(r.Context(), softphone.AgentInfo{ID: id, Name: "Agent " + id}, conn)
	}))
	t.Cleanup(func() {
		require.NoError(t, hub.Close())
		handlers.Wait()
		srv.Close()
	})
	return &rig{hub: hub, desk: desk, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/agent/ws"}
}

// dial connects an agent client and says hello.
func (r *rig) dial(t testing.TB, agent string, opts agentclient.Options) (*agentclient.Client, softphone.Welcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	c, err := agentclient.Dial(ctx, r.url+"?agent="+agent, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	w, err := c.Hello(ctx)
	require.NoError(t, err)
	return c, w
}

// connect sets up the client's media.
func connect(t testing.TB, c *agentclient.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
}

// playTone writes a tone to w every 20 ms until the test ends.
func playTone(t *testing.T, w media.FrameWriter, hz float64) {
	t.Helper()
	p := media.Tone([]float64{hz}, 10*time.Second, 0.3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = media.Play(ctx, w, p, nil)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// recorder is a sink keeping the last second of audio.
type recorder struct {
	mu      sync.Mutex
	samples []int16
	frames  int
}

func (r *recorder) WriteFrame(pcm []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames++
	r.samples = append(r.samples, pcm...)
	if n := len(r.samples); n > media.SampleRate {
		r.samples = append(r.samples[:0], r.samples[n-media.SampleRate:]...)
	}
	return nil
}

// power returns the power of hz in the last 300 ms.
func (r *recorder) power(hz float64) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.samples
	if len(s) > 2400 {
		s = s[len(s)-2400:]
	}
	return media.Power(s, hz)
}

// requireTone waits until power() reports hz clearly.
func requireTone(t *testing.T, what string, power func(hz float64) float64, hz float64) {
	t.Helper()
	require.Eventually(t, func() bool { return power(hz) > 0.01 }, waitFor, 20*time.Millisecond,
		"%s: no %g Hz tone (power %.4f)", what, hz, power(hz))
	require.Less(t, power(hz*1.37), 0.001, "%s: not a clean %g Hz tone", what, hz)
}

func TestWelcomeAndPing(t *testing.T) {
	r := newRig(t, softphone.Config{ICEServers: []softphone.ICEServer{{URLs: []string{"stun:127.0.0.1:3478"}}}})
	c, w := r.dial(t, "anna", agentclient.Options{})
	require.Equal(t, softphone.AgentInfo{ID: "anna", Name: "Agent anna"}, w.Agent)
	require.Equal(t, softphone.StateNotReady, w.State)
	require.Equal(t, []string{"lunch"}, w.Reasons)
	require.Equal(t, []string{"stun:127.0.0.1:3478"}, w.ICEServers[0].URLs)

	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	require.NoError(t, c.Send(ctx, softphone.Ping{T: 77}))
	m, err := c.Wait(ctx, softphone.TypePong)
	require.NoError(t, err)
	require.Equal(t, softphone.Pong{T: 77}, m)
}

func TestAudioBothWays(t *testing.T) {
	r := newRig(t, softphone.Config{})
	c, _ := r.dial(t, "anna", agentclient.Options{})
	connect(t, c)
	leg, err := r.hub.Leg("anna")
	require.NoError(t, err)
	require.Eventually(t, leg.Connected, waitFor, 10*time.Millisecond)

	rec := &recorder{}
	leg.SetSink(rec)
	playTone(t, leg, 440)
	c.SetTone(1000)

	requireTone(t, "agent hears caller", func(hz float64) float64 { return c.Heard(hz, 300*time.Millisecond) }, 440)
	requireTone(t, "caller hears agent", rec.power, 1000)
}

func TestChromiumOffer(t *testing.T) {
	offer, err := os.ReadFile("testdata/chromium-offer.sdp") // captured from Debian's chromium 156
	require.NoError(t, err)
	r := newRig(t, softphone.Config{})
	c, _ := r.dial(t, "anna", agentclient.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	require.NoError(t, c.Send(ctx, softphone.WebRTCOffer{SDP: string(offer)}))
	m, err := c.Wait(ctx, softphone.TypeWebRTCAnswer)
	require.NoError(t, err)
	answer := m.(softphone.WebRTCAnswer).SDP

	port := strconv.Itoa(r.hub.UDPAddr().(*net.UDPAddr).Port)
	require.Contains(t, answer, "m=audio ")
	require.Regexp(t, `m=audio \d+ UDP/TLS/RTP/SAVPF 0 8\r\n`, answer, "G.711 only, PCMU first")
	require.NotContains(t, answer, "opus")
	require.Contains(t, answer, "a=sendrecv")
	require.Regexp(t, `a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 `+port+` typ host`, answer)
}
