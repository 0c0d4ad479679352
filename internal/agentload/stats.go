package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// frameTime is the RTP packet time both legs use: 20 ms of 8 kHz audio.
const frameTime = 20 * time.Millisecond

// quantile returns the q-quantile (0 ≤ q ≤ 1) of xs by the nearest-rank
// method, sorting xs in place; ok is false when xs is empty.
func quantile(xs []time.Duration, q float64) (d time.Duration, ok bool) {
	if len(xs) == 0 {
		return 0, false
	}
	if !slices.IsSorted(xs) {
		slices.Sort(xs)
	}
	q = min(max(q, 0), 1)
	rank := int(math.Ceil(q * float64(len(xs))))
	return xs[max(rank, 1)-1], true
}

// deviation is how far one inter-arrival gap was from the 20 ms frame time.
func deviation(gap time.Duration) time.Duration {
	d := gap - frameTime
	if d < 0 {
		return -d
	}
	return d
}

// ulawToLinear decodes one G.711 µ-law byte to 16-bit linear PCM.
func ulawToLinear(u byte) int16 {
	u = ^u
	t := (int32(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// toneShare reports how much of a µ-law frame's energy is a sine at hz
// (0..1, from a Goertzel filter), and the frame's RMS level as a fraction
// of full scale. A frame carrying only the agents' test tone has a share
// near 1; music, noise and speech stay well below.
func toneShare(payload []byte, hz float64) (share, rms float64) {
	n := len(payload)
	if n == 0 {
		return 0, 0
	}
	coeff := 2 * math.Cos(2*math.Pi*hz/8000)
	var s1, s2, energy float64
	for _, u := range payload {
		x := float64(ulawToLinear(u)) / 32768
		energy += x * x
		s0 := x + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	if energy == 0 {
		return 0, 0
	}
	// Goertzel magnitude² ≈ (n·A/2)² for a sine of amplitude A, whose
	// energy over n samples is n·A²/2: their ratio is 1 for a pure tone.
	mag2 := s1*s1 + s2*s2 - coeff*s1*s2
	share = 2 * mag2 / (float64(n) * energy)
	return min(share, 1), math.Sqrt(energy / float64(n))
}

// sipAnswer is what the capture learns from the hotline's 200 OK to an
// INVITE: which caller it answers and which RTP port it sends from.
type sipAnswer struct {
	FromUser string // user part of the From URI, e.g. "load17"
	Port     int    // the m=audio port of the answer's SDP
}

// errNotAnswer says a SIP datagram is not a 200 OK with an SDP body.
var errNotAnswer = errors.New("not a 200 OK with SDP")

// parseAnswer reads a SIP response datagram and returns the From user and
// the SDP audio port of a 200 OK that carries SDP (the answer to an INVITE).
// Any other message gives errNotAnswer; a malformed one a clear error.
func parseAnswer(b []byte) (sipAnswer, error) {
	head, body, found := bytes.Cut(b, []byte("\r\n\r\n"))
	if !found {
		return sipAnswer{}, errNotAnswer
	}
	lines := strings.Split(string(head), "\r\n")
	if !strings.HasPrefix(lines[0], "SIP/2.0 200 ") {
		return sipAnswer{}, errNotAnswer
	}
	var a sipAnswer
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		if n := strings.TrimSpace(name); strings.EqualFold(n, "From") || n == "f" {
			user, err := uriUser(value)
			if err != nil {
				return sipAnswer{}, err
			}
			a.FromUser = user
		}
	}
	for l := range strings.Lines(string(body)) {
		l = strings.TrimSpace(l)
		rest, ok := strings.CutPrefix(l, "m=audio ")
		if !ok {
			continue
		}
		port, _, _ := strings.Cut(rest, " ")
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return sipAnswer{}, fmt.Errorf("bad m=audio port %q", port)
		}
		a.Port = p
		break
	}
	if a.Port == 0 {
		return sipAnswer{}, errNotAnswer
	}
	if a.FromUser == "" {
		return sipAnswer{}, errors.New("200 OK without a From user")
	}
	return a, nil
}

// uriUser returns the user part of the SIP URI in a From header value.
func uriUser(v string) (string, error) {
	i := strings.Index(v, "sip:")
	if i < 0 {
		i = strings.Index(v, "sips:")
		if i < 0 {
			return "", fmt.Errorf("no sip URI in From %q", strings.TrimSpace(v))
		}
		i++
	}
	u := v[i+4:]
	end := strings.IndexAny(u, "@>;")
	if end <= 0 || u[end] != '@' {
		return "", fmt.Errorf("no user in From %q", strings.TrimSpace(v))
	}
	return u[:end], nil
}

// histogram is one Prometheus histogram: cumulative counts by upper bound,
// ascending, the last bound +Inf.
type histogram struct {
	Bounds []float64
	Counts []float64
}

// parseHistogram reads Prometheus text exposition and returns the
// histogram named name.
func parseHistogram(r io.Reader, name string) (histogram, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return histogram{}, fmt.Errorf("metrics: %w", err)
	}
	f, ok := fams[name]
	if !ok || f.GetType() != dto.MetricType_HISTOGRAM || len(f.GetMetric()) == 0 {
		return histogram{}, fmt.Errorf("metrics: no histogram %s", name)
	}
	h := f.GetMetric()[0].GetHistogram()
	var out histogram
	for _, b := range h.GetBucket() {
		out.Bounds = append(out.Bounds, b.GetUpperBound())
		out.Counts = append(out.Counts, float64(b.GetCumulativeCount()))
	}
	if len(out.Bounds) == 0 || !math.IsInf(out.Bounds[len(out.Bounds)-1], 1) {
		out.Bounds = append(out.Bounds, math.Inf(1))
		out.Counts = append(out.Counts, float64(h.GetSampleCount()))
	}
	return out, nil
}

// Total is the number of observations.
func (h histogram) Total() float64 {
	if len(h.Counts) == 0 {
		return 0
	}
	return h.Counts[len(h.Counts)-1]
}

// Quantile estimates the q-quantile the way Prometheus's
// histogram_quantile does: linear within the bucket that holds it. It
// returns the highest finite bound and inInf when the quantile lies in the
// +Inf bucket, and ok false for an empty histogram.
func (h histogram) Quantile(q float64) (v float64, inInf, ok bool) {
	total := h.Total()
	if total == 0 {
		return 0, false, false
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for i, bound := range h.Bounds {
		if h.Counts[i] >= rank {
			if math.IsInf(bound, 1) {
				return lower, true, true
			}
			in := h.Counts[i] - below
			if in == 0 {
				return bound, false, true
			}
			return lower + (bound-lower)*(rank-below)/in, false, true
		}
		lower, below = bound, h.Counts[i]
	}
	return lower, true, true
}

// counterSum returns the value of the counter name with label=value (all
// series of name when label is ""), summed, from Prometheus text.
func counterSum(text []byte, name, label, value string) (float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	f, ok := fams[name]
	if !ok {
		return 0, fmt.Errorf("metrics: no %s", name)
	}
	sum := 0.0
	for _, m := range f.GetMetric() {
		match := label == ""
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				match = true
			}
		}
		if match {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum, nil
}
