package web_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// Tones of the audio test: the server plays serverHz to the agent, the
// browser's fake microphone plays micHz.
const (
	serverHz = 440.0
	micHz    = 1000.0
)

// readyDesk is the smallest call center: every agent is ready, commands are
// accepted and dropped.
type readyDesk struct{}

func (readyDesk) Attached(context.Context, string) (softphone.Welcome, error) {
	return softphone.Welcome{State: softphone.StateReady, Since: time.Now().UnixMilli(), Reasons: []string{"break"}}, nil
}

func (readyDesk) Command(context.Context, string, softphone.Message) error { return nil }

func (readyDesk) Detached(string, string) {}

func (readyDesk) AudioLost(string) {}

// testAudioBothWays connects the agent page to the real softphone.Hub over
// 127.0.0.1: a tone written to the agent's Leg is heard by the page, and the
// page's fake-microphone tone reaches the Leg's sink.
func testAudioBothWays(t *testing.T, br *browsertest.Browser) {
	hub, err := softphone.NewHub(softphone.Config{UDPAddr: "127.0.0.1:0"}, readyDesk{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, hub.Close()) })

	b := newBackend(t)
	b.OnConn = func(ctx context.Context, c *websocket.Conn) {
		_ = hub.Serve(ctx, softphone.AgentInfo{ID: testUser, Name: testName}, c)
	}
	p := br.NewPage(t)
	p.Open(b.URL + "/login?next=" + "/agent/%3Faudio%3Draw")
	p.Type("#login-user", testUser)
	p.Type("#login-pass", testPassword)
	p.Click("#login-submit")
	p.WaitText("#state", "Ready")
	p.WaitTrue(`hotlineAgent.rtc() === 'connected'`)

	var leg *softphone.Leg
	require.Eventually(t, func() bool {
		l, err := hub.Leg(testUser)
		if err != nil || !l.Connected() {
			return false
		}
		leg = l
		return true
	}, 10*time.Second, 20*time.Millisecond, "the agent's leg never connected")

	// What the browser's microphone sends, as the switchboard would get it.
	frames := make(chan []int16, 200)
	leg.SetSink(media.FrameWriterFunc(func(pcm []int16) error {
		select {
		case frames <- append([]int16(nil), pcm...):
		default:
		}
		return nil
	}))
	t.Cleanup(func() { leg.SetSink(nil) })

	// The server side plays a steady tone to the browser, paced by a ticker.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	tone := media.Tone([]float64{serverHz}, time.Second, 0.5).Samples // whole cycles: loops cleanly
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		const frame = 160
		for i := 0; ; i = (i + frame) % len(tone) {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if err := leg.WriteFrame(tone[i : i+frame]); err != nil {
				return
			}
		}
	})

	// Server → browser.
	heard := p.WaitRemoteLevel(serverHz, 0.02)
	other := p.RemoteLevel(micHz)
	t.Logf("browser hears %.4f at %v Hz, %.4f at %v Hz", heard, serverHz, other, micHz)
	require.Greater(t, heard, 10*other, "the browser hears the server's tone, not noise")

	// Browser → server: half a second of frames carries the 1000 Hz tone.
	deadline := time.After(10 * time.Second)
	var window []int16
	for {
		select {
		case f := <-frames:
			window = append(window, f...)
		case <-deadline:
			t.Fatalf("the browser's microphone tone did not reach the leg (last window: %.4f at %v Hz)",
				media.Power(window, micHz), micHz)
		}
		if len(window) < 4000 {
			continue
		}
		tonePower, otherPower := media.Power(window, micHz), media.Power(window, serverHz)
		if tonePower > 0.005 && tonePower > 20*otherPower {
			t.Logf("server hears %.4f at %v Hz, %.5f at %v Hz", tonePower, micHz, otherPower, serverHz)
			break
		}
		window = window[:0]
	}

	// Mute silences the microphone on the wire.
	require.True(t, browsertest.Eval[bool](p, `(document.getElementById('mute').click(), hotlineAgent.muted())`))
	require.Eventually(t, func() bool {
		var w []int16
		for len(w) < 4000 {
			select {
			case f := <-frames:
				w = append(w, f...)
			case <-time.After(2 * time.Second):
				return false
			}
		}
		return media.Power(w, micHz) < 0.0005
	}, 10*time.Second, 10*time.Millisecond, "mute must silence the microphone")
}
