package browsertest

import (
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testPage has a form for the DOM helpers and plays the microphone into
// #remote-audio, which is what RemoteLevel listens to.
const testPage = `<!doctype html><html><body>
<input id="name"><button id="go" onclick="document.getElementById('out').textContent = 'Hello, ' + document.getElementById('name').value">Go</button>
<p id="out"></p><p id="later" hidden>shown</p>
<select id="pick"><option value="a">A</option><option value="b">B</option></select>
<audio id="remote-audio" autoplay></audio>
<script>
setTimeout(() => { document.getElementById('later').hidden = false; }, 300);
navigator.mediaDevices.getUserMedia({audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}})
  .then((s) => { document.getElementById('remote-audio').srcObject = s; });
</script></body></html>`

func serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(testPage))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestBrowser(t *testing.T) {
	url := serve(t)
	b := Start(t, Options{MicToneHz: 1000, Lang: "ru-RU"})

	t.Run("dom", func(t *testing.T) {
		p := b.NewPage(t)
		p.Open(url)
		p.Type("#name", "agent")
		p.Click("#go")
		require.Equal(t, "Hello, agent", p.WaitText("#out", "Hello"))
		p.WaitVisible("#later")
		require.True(t, p.Visible("#later"))
		p.SetValue("#pick", "b")
		require.Equal(t, "b", Eval[string](p, `document.getElementById('pick').value`))
		require.Equal(t, 42, Eval[int](p, `Promise.resolve(42)`))
	})

	t.Run("language", func(t *testing.T) {
		p := b.NewPage(t)
		p.Open(url)
		require.Equal(t, "ru", Eval[string](p, `navigator.language.split('-')[0]`))
	})

	t.Run("fake microphone tone", func(t *testing.T) {
		p := b.NewPage(t)
		p.Open(url)
		tone := p.WaitRemoteLevel(1000, 0.05)
		other := p.RemoteLevel(440)
		t.Logf("level at 1000 Hz %.4f, at 440 Hz %.4f", tone, other)
		require.Greater(t, tone, 20*other, "the 1000 Hz tone must stand far above 440 Hz")
	})
}

// TestTrustedCertificate: a page over HTTPS with a certificate no CA signed
// loads when it is trusted, is a secure context with the microphone, and a
// Content Security Policy violation shows in Console.
func TestTrustedCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "script-src 'self'")
		_, _ = w.Write([]byte(`<!doctype html><html><body><p id="p">page</p><script>window.inline = true;</script></body></html>`))
	}))
	t.Cleanup(srv.Close)
	b := Start(t, Options{MicToneHz: 1000, TrustCertificates: []*x509.Certificate{srv.Certificate()}})
	p := b.NewPage(t)
	p.Open(srv.URL)
	require.Equal(t, "page", p.Text("#p"))
	require.True(t, Eval[bool](p, `window.isSecureContext`))
	require.Equal(t, 1, Eval[int](p, `navigator.mediaDevices.getUserMedia({audio: true}).then((s) => s.getAudioTracks().length)`))
	require.False(t, Eval[bool](p, `window.inline === true`), "the policy blocked the inline script")
	require.Eventually(t, func() bool {
		for _, line := range p.Console() {
			if strings.HasPrefix(line, "log.error (security): ") && strings.Contains(line, "Content Security Policy") {
				return true
			}
		}
		return false
	}, 5*time.Second, 50*time.Millisecond, "the violation is in Console: %q", p.Console())
}

func TestToneWAVLoopsCleanly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tone.wav")
	require.NoError(t, writeToneWAV(path, 1000.2, 0.5))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "RIFF", string(data[:4]))
	require.Equal(t, "WAVE", string(data[8:12]))
	require.EqualValues(t, micRate, binary.LittleEndian.Uint32(data[24:]))
	pcm := data[44:]
	require.Len(t, pcm, micRate*micSeconds*2)
	sample := func(i int) float64 { return float64(int16(binary.LittleEndian.Uint16(pcm[2*i:]))) / 32767 }
	// The step from the last sample back to the first is no larger than a
	// step inside the tone: the loop has no click.
	n := len(pcm) / 2
	maxStep := 2 * math.Pi * 1000 / micRate * 0.5
	require.InDelta(t, 0, sample(0), 1e-4)
	require.LessOrEqual(t, math.Abs(sample(0)-sample(n-1)), maxStep*1.01)
	peak := 0.0
	for i := range n {
		peak = math.Max(peak, math.Abs(sample(i)))
	}
	require.InDelta(t, 0.5, peak, 0.01)

	require.Error(t, writeToneWAV(path, 30000, 0.5), "a tone above Nyquist is refused")
}

func TestStartFailsClearlyWithoutChromium(t *testing.T) {
	ft := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(ft, Options{ExecPath: filepath.Join(t.TempDir(), "no-chromium")})
	}()
	<-done
	require.Contains(t, ft.msg, "install the Debian package \"chromium\"")
}

// fatalRecorder catches Fatalf (which ends the goroutine) for the test above.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalRecorder) Helper() {}
