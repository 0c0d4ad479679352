package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// When the media connection cannot be made (here the server never answers
// the page's offers, as when its softphone is unreachable), the banner says
// what to check while the page makes new offers a bounded number of times;
// then it gives up and makes the agent not ready "audio", in words the
// agent reads (en/ru). Ready tries the audio again.
func TestAgentAudioTrouble(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})
	b := newBackend(t)
	p := br.NewPage(t)
	p.Open(b.URL + "/agent/?audio=raw&audio_connect_ms=700&audio_backoff_ms=200")
	p.WaitVisible("#login-submit")
	p.Type("#login-user", testUser)
	p.Type("#login-pass", testPassword)
	p.Click("#login-submit")
	p.WaitVisible("#ready")
	c := b.next(t)
	c.expect(t, softphone.TypeHello)
	c.send(t, welcome(softphone.StateReady))
	p.WaitText("#state", "Ready")

	// While retrying, the banner names what to check.
	retry := p.WaitText("#error", "trying again")
	for _, want := range []string{"microphone", "network", "softphone address"} {
		require.Contains(t, retry, want)
	}

	// The page offers again, a bounded number of times, then gives up: it
	// asks to be not ready for "audio".
	offers := 0
	deadline := time.After(30 * time.Second)
	var nr softphone.NotReady
wait:
	for {
		select {
		case r, ok := <-c.in:
			require.True(t, ok, "the page closed the socket")
			require.NoError(t, r.err)
			switch m := r.msg.(type) {
			case softphone.WebRTCOffer:
				offers++
			case softphone.NotReady:
				nr = m
				break wait
			}
		case <-deadline:
			t.Fatalf("the page did not give up on the audio (%d offers)\n%s", offers, strings.Join(p.Console(), "\n"))
		}
	}
	require.Equal(t, "audio", nr.Reason)
	require.Equal(t, 5, offers, "the first offer and 4 retries")
	require.Equal(t, 4, browsertest.Eval[int](p, `hotlineAgent.audioTries()`))

	c.send(t, softphone.State{State: softphone.StateNotReady, Reason: "audio", Since: time.Now().UnixMilli()})
	p.WaitText("#state", "Not ready")
	require.Equal(t, "No audio connection", p.Text("#state-reason"))
	gaveUp := p.WaitText("#error", "not ready")
	for _, want := range []string{"No audio connection to the server", "microphone", "network", "softphone address", "press Ready to try again"} {
		require.Contains(t, gaveUp, want)
	}
	require.NotContains(t, browsertest.Eval[string](p, `[...document.querySelectorAll('#reason option')].map((o) => o.value).join(',')`), "audio",
		"audio is the server's reason, not one to pick")
	shoot(t, p, screenshotDir(t), "audio-trouble-1366-en", 1366, 900)
	p.SetValue("#lang", "ru")
	p.WaitText("#state-reason", "Нет звукового соединения")
	ru := p.Text("#error")
	for _, want := range []string{"микрофон", "сеть", "адрес софтфона сервера", "Готов"} {
		require.Contains(t, ru, want)
	}
	shoot(t, p, screenshotDir(t), "audio-trouble-420-ru", 420, 860)
	p.SetValue("#lang", "en")

	// Made ready without pressing Ready (as a wrap-up ends), the page
	// stays not ready while it has no audio.
	c.send(t, softphone.State{State: softphone.StateReady, Since: time.Now().UnixMilli()})
	require.Equal(t, "audio", c.expect(t, softphone.TypeNotReady).(softphone.NotReady).Reason)
	c.send(t, softphone.State{State: softphone.StateNotReady, Reason: "audio", Since: time.Now().UnixMilli()})
	p.WaitText("#state-reason", "No audio connection")

	// Ready makes a new offer and goes ready.
	p.Click("#ready")
	sawOffer := false
	for !sawOffer {
		select {
		case r := <-c.in:
			require.NoError(t, r.err)
			if r.msg.Type() == softphone.TypeWebRTCOffer {
				sawOffer = true
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Ready did not try the audio again")
		}
	}
}
