package browsertest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Fake microphone file: 48 kHz mono 16-bit PCM, three seconds, a whole number
// of cycles so that Chromium's loop of the file has no click.
const (
	micRate    = 48000
	micSeconds = 3
)

// writeToneWAV writes the fake microphone's WAV file: a sine at hz (rounded
// to the nearest third of a hertz so it loops cleanly) at peak level, or
// silence when hz is 0.
func writeToneWAV(path string, hz, level float64) (err error) {
	if hz < 0 || hz >= micRate/2 {
		return fmt.Errorf("tone %v Hz is outside 0-%d Hz", hz, micRate/2)
	}
	const n = micRate * micSeconds
	cycles := math.Round(hz * micSeconds)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := bufio.NewWriter(f)
	le := binary.LittleEndian
	var hdr [44]byte
	copy(hdr[0:], "RIFF")
	le.PutUint32(hdr[4:], 36+n*2)
	copy(hdr[8:], "WAVEfmt ")
	le.PutUint32(hdr[16:], 16)        // fmt chunk size
	le.PutUint16(hdr[20:], 1)         // PCM
	le.PutUint16(hdr[22:], 1)         // mono
	le.PutUint32(hdr[24:], micRate)   // sample rate
	le.PutUint32(hdr[28:], micRate*2) // byte rate
	le.PutUint16(hdr[32:], 2)         // block align
	le.PutUint16(hdr[34:], 16)        // bits per sample
	copy(hdr[36:], "data")
	le.PutUint32(hdr[40:], n*2)
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	var s [2]byte
	for i := range n {
		v := level * math.Sin(2*math.Pi*cycles*float64(i)/n)
		le.PutUint16(s[:], uint16(int16(math.Round(v*32767))))
		if _, err := w.Write(s[:]); err != nil {
			return err
		}
	}
	return w.Flush()
}

// levelJS measures the page's remote audio near a frequency. It attaches one
// AnalyserNode to #remote-audio's stream (again if the stream changes),
// waits for a fresh 8192-sample window, and returns the root of the summed
// power of the bins within ±3 % of the frequency, as a linear amplitude: 0
// for silence, about 0.1 to 0.2 for a tone at a tenth of full scale. No
// stream yet gives 0.
const levelJS = `(async (freq) => {
	const el = document.getElementById('remote-audio');
	if (!el || !el.srcObject || el.srcObject.getAudioTracks().length === 0) return 0;
	let st = window.__browsertestLevel;
	if (!st || st.stream !== el.srcObject) {
		if (st) st.ctx.close();
		const ctx = new AudioContext();
		const an = ctx.createAnalyser();
		an.fftSize = 8192;
		an.smoothingTimeConstant = 0;
		ctx.createMediaStreamSource(el.srcObject).connect(an);
		st = window.__browsertestLevel = { ctx, an, stream: el.srcObject };
	}
	if (st.ctx.state !== 'running') await st.ctx.resume();
	await new Promise((r) => setTimeout(r, 200));
	const bins = new Float32Array(st.an.frequencyBinCount);
	st.an.getFloatFrequencyData(bins);
	const hz = st.ctx.sampleRate / st.an.fftSize;
	const lo = Math.max(1, Math.floor(freq * 0.97 / hz));
	const hi = Math.min(bins.length - 1, Math.ceil(freq * 1.03 / hz));
	let power = 0;
	for (let i = lo; i <= hi; i++) {
		if (Number.isFinite(bins[i])) power += Math.pow(10, bins[i] / 10);
	}
	return Math.sqrt(power);
})(%v)`

// userGesture marks an evaluation as a user action, so an AudioContext
// starts without a click on the page.
func userGesture(p *runtime.EvaluateParams) {
	yes := true
	p.UserGesture = &yes
}

// RemoteLevel returns how loud the page's remote audio (#remote-audio's
// srcObject) is near freqHz, measured over about 0.2 s with a Web Audio
// analyser: a linear amplitude, 0 for silence or no stream yet. Compare it
// with the level at a frequency that is not being sent.
func (p *Page) RemoteLevel(freqHz float64) float64 {
	p.t.Helper()
	return run(p, fmt.Sprintf("remote level at %v Hz", freqHz),
		chromedp.Evaluate[float64](fmt.Sprintf(levelJS, freqHz), chromedp.EvalAwaitPromise, userGesture))
}

// WaitRemoteLevel polls RemoteLevel until it reaches min and returns the
// level; it fails the test if that does not happen within the page timeout.
func (p *Page) WaitRemoteLevel(freqHz, min float64) float64 {
	p.t.Helper()
	deadline := time.Now().Add(p.b.opt.Timeout)
	for {
		l := p.RemoteLevel(freqHz)
		if l >= min {
			return l
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("browsertest: remote audio at %v Hz is %.4f, want at least %.4f within %v", freqHz, l, min, p.b.opt.Timeout)
		}
	}
}
