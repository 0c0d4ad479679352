package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/loadkit"
	"github.com/hotline/hotline/internal/sipptest"
)

// metricDeviation is the hotline's send-interval histogram (caller leg).
const metricDeviation = "hotline_rtp_send_interval_deviation_seconds"

// goalDeviation is the p99 send-interval deviation goal on both legs.
const goalDeviation = 2 * time.Millisecond

// goalTogether is how long all calls must be bridged at the same time.
const goalTogether = 20 * time.Second

// goalPush bounds the wallboard's push latency (issue 11: changes within 1 s).
const goalPush = time.Second

// latency is a median and p99 over n calls.
type latency struct {
	N           int
	Median, P99 time.Duration
}

// summarize returns the median and p99 of xs.
func summarize(xs []time.Duration) latency {
	l := latency{N: len(xs)}
	l.Median, _ = quantile(xs, 0.5)
	l.P99, _ = quantile(xs, 0.99)
	return l
}

// String prints "median / p99 (n)".
func (l latency) String() string {
	if l.N == 0 {
		return "no data"
	}
	return fmt.Sprintf("%s / %s (n=%d)", ms(l.Median), ms(l.P99), l.N)
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// report is everything the benchmark prints.
type report struct {
	Opts    options
	Machine loadkit.Machine

	SetupAgents, SetupSignIn time.Duration
	SIPp                     sipptest.Result
	Capture                  captureResult
	HotlineSamples           []procSample
	SelfSamples              []procSample
	watchers                 *watchers // the supervisors; nil without -supervisors

	// Derived by analyze.
	Offered, Connected, Ended int // distinct calls offered; connected and heard; ended after connecting
	Reoffers                  int // offers withdrawn or refused before connecting (the call went elsewhere)
	OfferProblems             []string
	AgentErrors               []error
	Together                  time.Duration // all calls bridged at once for this long
	AgentHears                latency       // accept → agent decodes caller audio
	CallerHears               latency       // accept → hotline sends the agent's tone to the caller
	TwoWay                    latency       // accept → both
	ServerP99                 float64       // seconds, from the hotline's histogram
	ServerP99InInf            bool
	ServerSamples             float64
	ServerErr                 error
	PacerLate, PacerWork      string            // p50 / p99 of the pacer's wake-up lateness and work, from the hotline's histograms
	LegDev                    [legCount]latency // p50 (as Median) and p99 per captured leg
	HotlineCPU                float64           // cores, while all calls were bridged
	SelfCPU                   float64
	PeakRSSKiB                int64
	RTPOut                    float64
	Recorded                  recorded // the recorder's work, from the hotline's metrics
	Warnings                  int
	FirstWarnings             []string
	Supervision               supervision // with -supervisors
}

// supervision is what the supervisors saw.
type supervision struct {
	Push          latency // call connected at the agent → on each supervisor's wallboard
	PushMissing   int     // (supervisor, call) pairs never shown
	Messages      int
	MessageBytes  int64
	Watched       time.Duration // from the first supervisor's sign-in to the analysis
	Errors        []error
	Monitors      []monitored
	MonitorsHeard int // monitors that joined and heard the agent's tone
}

// analyze derives the figures from the raw readings.
func (r *report) analyze(metrics []byte, p *pool) {
	calls, errs := p.result()
	r.AgentErrors = errs
	offered := map[string]bool{}
	var agentH, callerH, both []time.Duration
	var lastAccept, firstEnd time.Time
	for _, c := range calls {
		offered[c.CallID] = true
		if c.Problem != "" {
			r.Reoffers++
			if len(r.OfferProblems) < 3 {
				r.OfferProblems = append(r.OfferProblems, c.Agent+" "+c.CallID+": "+c.Problem)
			}
			continue
		}
		if c.Connected && !c.HeardAt.IsZero() {
			r.Connected++
			agentH = append(agentH, c.HeardAt.Sub(c.AcceptAt))
		}
		if c.Connected && !c.EndedAt.IsZero() {
			r.Ended++
			if firstEnd.IsZero() || c.EndedAt.Before(firstEnd) {
				firstEnd = c.EndedAt
			}
		}
		if c.AcceptAt.After(lastAccept) {
			lastAccept = c.AcceptAt
		}
		port, ok := r.Capture.Answers[c.From]
		if !ok {
			continue
		}
		onset, ok := r.Capture.ToneOnset[port]
		if !ok || onset.Before(c.AcceptAt) {
			continue
		}
		callerH = append(callerH, onset.Sub(c.AcceptAt))
		if !c.HeardAt.IsZero() {
			last := onset
			if c.HeardAt.After(last) {
				last = c.HeardAt
			}
			both = append(both, last.Sub(c.AcceptAt))
		}
	}
	r.Offered = len(offered)
	r.AgentHears, r.CallerHears, r.TwoWay = summarize(agentH), summarize(callerH), summarize(both)
	if r.Ended == r.Opts.Calls && !firstEnd.IsZero() && firstEnd.After(lastAccept) {
		r.Together = firstEnd.Sub(lastAccept)
		r.HotlineCPU = cpuBetween(r.HotlineSamples, lastAccept, firstEnd)
		r.SelfCPU = cpuBetween(r.SelfSamples, lastAccept, firstEnd)
	}
	r.PeakRSSKiB = peakRSS(r.HotlineSamples)
	for l := range legCount {
		r.LegDev[l] = summarize(r.Capture.Legs[l].Dev)
	}
	h, err := parseHistogram(bytes.NewReader(metrics), metricDeviation)
	if err != nil {
		r.ServerErr = err
	} else {
		r.ServerSamples = h.Total()
		var ok bool
		r.ServerP99, r.ServerP99InInf, ok = h.Quantile(0.99)
		if !ok {
			r.ServerErr = fmt.Errorf("%s is empty", metricDeviation)
		}
	}
	r.RTPOut, _ = counterSum(metrics, "hotline_rtp_packets_total", "direction", "out")
	r.PacerLate = histogramSummary(metrics, "hotline_media_pacer_lateness_seconds")
	r.PacerWork = histogramSummary(metrics, "hotline_media_pacer_work_seconds")
	r.Recorded.Started, _ = counterSum(metrics, "hotline_recordings_started_total", "", "")
	r.Recorded.Bytes, _ = counterSum(metrics, "hotline_recording_bytes_total", "", "")
	r.Recorded.Failed, _ = counterSum(metrics, "hotline_recordings_failed_total", "", "")
	if h, err := parseHistogram(bytes.NewReader(metrics), "hotline_recording_write_seconds"); err == nil {
		r.Recorded.Writes = h.Total()
	}
	r.Recorded.Write = histogramSummary(metrics, "hotline_recording_write_seconds")
	if w := r.watchers; w != nil {
		lat, missing := w.pushes(calls)
		sv := &r.Supervision
		sv.Push, sv.PushMissing = summarize(lat), missing
		w.mu.Lock()
		sv.Messages, sv.MessageBytes, sv.Watched = w.messages, w.bytes, time.Since(w.started)
		sv.Errors = append([]error(nil), w.errs...)
		sv.Monitors = append([]monitored(nil), w.monitors...)
		w.mu.Unlock()
		for _, m := range sv.Monitors {
			if m.heard() {
				sv.MonitorsHeard++
			}
		}
	}
}

// heard reports whether the supervisor joined the call and heard its agent.
func (m monitored) heard() bool { return m.Err == nil && m.Status == 200 && m.Heard > 0.01 }

// supervisionOK reports whether every supervisor saw every call and every
// monitoring supervisor heard their call.
func (r *report) supervisionOK() bool {
	sv := r.Supervision
	return len(sv.Errors) == 0 && sv.PushMissing == 0 && sv.Push.N > 0 && sv.Push.P99 <= goalPush &&
		sv.MonitorsHeard == r.Opts.Monitor
}

// recorded is what the recorder did in a run.
type recorded struct {
	Started, Bytes, Failed, Writes float64
	Write                          string // p50 / p99 of one batched write
}

// String sums the recorder's figures up for the report: per recorded call
// second (the audio bytes / 32,000), the bytes and write calls.
func (r recorded) String() string {
	if r.Started == 0 {
		return "not recording"
	}
	secs := r.Bytes / 32000
	if secs == 0 {
		return fmt.Sprintf("%.0f started, nothing written", r.Started)
	}
	return fmt.Sprintf("%.0f calls, %.0f failed; %.0f bytes/s and %.2f writes/s per call; write p50 / p99 %s",
		r.Started, r.Failed, r.Bytes/secs, r.Writes/secs, r.Write)
}

// devShareBounds are the bounds devShares reports.
var devShareBounds = []time.Duration{
	500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond,
	5 * time.Millisecond, 10 * time.Millisecond, 19 * time.Millisecond, 21 * time.Millisecond,
}

// devShares prints the share of deviations at or below each bound, to show
// where a p99 comes from (a late wake-up is a few ms; a frame that missed its
// tick is 20 ms).
func devShares(dev []time.Duration) string {
	if len(dev) == 0 {
		return "no data"
	}
	parts := make([]string, 0, len(devShareBounds))
	for _, b := range devShareBounds {
		n := 0
		for _, d := range dev {
			if d <= b {
				n++
			}
		}
		parts = append(parts, fmt.Sprintf("≤ %s %.2f %%", b, 100*float64(n)/float64(len(dev))))
	}
	return strings.Join(parts, ", ")
}

// histogramSummary prints the p50 and p99 of one of
// the hotline's histograms (interpolated in the bucket, as Prometheus
// does), or why it cannot.
func histogramSummary(metrics []byte, name string) string {
	h, err := parseHistogram(bytes.NewReader(metrics), name)
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, q := range []float64{0.5, 0.99} {
		v, inInf, ok := h.Quantile(q)
		switch {
		case !ok:
			return name + " is empty"
		case inInf:
			parts = append(parts, fmt.Sprintf("> %.2f ms", v*1000))
		default:
			parts = append(parts, fmt.Sprintf("%.2f ms", v*1000))
		}
	}
	return fmt.Sprintf("%s / %s (n=%.0f)", parts[0], parts[1], h.Total())
}

// callsOK reports whether every call completed: SIPp counted them all
// successful and every agent call connected and ended.
func (r *report) callsOK() bool {
	n := r.Opts.Calls
	return r.SIPp.Err() == nil && r.Offered == n && r.Connected == n && r.Ended == n && len(r.AgentErrors) == 0
}

// failures lists why the run failed; empty when every call completed.
func (r *report) failures() []string {
	var out []string
	if err := r.SIPp.Err(); err != nil {
		out = append(out, fmt.Sprintf("SIPp: %d of %d calls succeeded, %d failed", r.SIPp.Successful, r.Opts.Calls, r.SIPp.Failed))
	}
	n := r.Opts.Calls
	if r.Offered != n || r.Connected != n || r.Ended != n {
		out = append(out, fmt.Sprintf("agents: %d offered, %d heard the caller, %d ended, of %d", r.Offered, r.Connected, r.Ended, n))
	}
	for i, err := range r.AgentErrors {
		if i == 3 {
			out = append(out, fmt.Sprintf("… %d more agent errors", len(r.AgentErrors)-3))
			break
		}
		out = append(out, err.Error())
	}
	if r.Opts.Supervisors > 0 && !r.supervisionOK() {
		sv := r.Supervision
		out = append(out, fmt.Sprintf("supervisors: %d errors, %d call sightings missing, push p99 %s, %d of %d monitors heard their call",
			len(sv.Errors), sv.PushMissing, ms(sv.Push.P99), sv.MonitorsHeard, r.Opts.Monitor))
		for i, err := range sv.Errors {
			if i == 3 {
				break
			}
			out = append(out, err.Error())
		}
		for _, m := range sv.Monitors {
			if !m.heard() {
				out = append(out, fmt.Sprintf("%s on %s: HTTP %d, heard %.3f, %v", m.Supervisor, m.CallID, m.Status, m.Heard, m.Err))
				break
			}
		}
	}
	return out
}

// check renders a goal as ✓ or ✗.
func check(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// write prints the report as markdown.
func (r *report) write(w io.Writer) {
	n := r.Opts.Calls
	fmt.Fprintf(w, "\n## make bench-agents: %d SIPp callers ⇄ hotline ⇄ %d Go WebRTC agents\n\n", n, n)
	fmt.Fprintf(w, "Machine: %d × %s, Linux %s, load average before: %s  \n", r.Machine.CPUs, r.Machine.Model, r.Machine.Kernel, r.Machine.Load)
	fmt.Fprintf(w, "Command: `go run ./internal/agentload %s`  \n", strings.Join(r.Opts.Args, " "))
	fmt.Fprintf(w, "Setup: %d agents created in %s, signed in (WebSocket + WebRTC) in %s\n\n",
		n, r.SetupAgents.Round(time.Second), r.SetupSignIn.Round(time.Second))
	fmt.Fprintln(w, "| figure | value | goal |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| calls completed (SIPp) | %d of %d, %d failed, %d retransmissions | all %s |\n",
		r.SIPp.Successful, n, r.SIPp.Failed, r.SIPp.Retransmissions, check(r.callsOK()))
	fmt.Fprintf(w, "| calls offered / connected and heard / ended (agents) | %d / %d / %d | %d each |\n", r.Offered, r.Connected, r.Ended, n)
	fmt.Fprintf(w, "| offers withdrawn or refused before connecting | %d %s | report |\n", r.Reoffers, strings.Join(r.OfferProblems, "; "))
	fmt.Fprintf(w, "| all %d bridged at once for | %s | ≥ %s %s |\n", n, r.Together.Round(100*time.Millisecond), goalTogether, check(r.Together >= goalTogether))
	serverP99 := "n/a"
	switch {
	case r.ServerErr != nil:
		serverP99 = r.ServerErr.Error()
	case r.ServerP99InInf:
		serverP99 = fmt.Sprintf("> %.0f ms", r.ServerP99*1000)
	default:
		serverP99 = fmt.Sprintf("%.3f ms", r.ServerP99*1000)
	}
	serverOK := r.ServerErr == nil && !r.ServerP99InInf && r.ServerP99 < goalDeviation.Seconds()
	fmt.Fprintf(w, "| p99 send-interval deviation, hotline → callers (hotline histogram, %.0f sends, whole run) | %s | < 2 ms %s |\n",
		r.ServerSamples, serverP99, check(serverOK))
	for _, l := range []struct {
		leg  leg
		name string
		goal bool
	}{
		{legCaller, "hotline → callers, IVR and queue (hotline's pacer)", true},
		{legCallerBridged, "hotline → callers, bridged (agent's audio)", true},
		{legAgent, "hotline → agents, bridged (caller's audio)", true},
		{legCallerIn, "SIPp callers → hotline (source of the agent leg)", false},
		{legAgentIn, "Go agents → hotline (source of the bridged caller leg)", false},
	} {
		d := r.LegDev[l.leg]
		goal := "reference"
		if l.goal {
			goal = "< 2 ms " + check(d.N > 0 && d.P99 < goalDeviation)
		}
		fmt.Fprintf(w, "| send-interval deviation p50 / p99, %s | %s | %s |\n", l.name, d, goal)
	}
	fmt.Fprintf(w, "| media pacer wake-up lateness p50 / p99 (hotline histogram, whole run) | %s | report |\n", r.PacerLate)
	fmt.Fprintf(w, "| media pacer work per wake-up p50 / p99 (hotline histogram, whole run) | %s | report |\n", r.PacerWork)
	fmt.Fprintf(w, "| accept → agent hears the caller, median / p99 | %s | report |\n", r.AgentHears)
	fmt.Fprintf(w, "| accept → hotline sends the agent's voice to the caller, median / p99 | %s | report |\n", r.CallerHears)
	fmt.Fprintf(w, "| **accept → two-way audio**, median / p99 | %s | report |\n", r.TwoWay)
	fmt.Fprintf(w, "| hotline CPU while all calls bridged | %.0f %% of one core | report |\n", r.HotlineCPU*100)
	fmt.Fprintf(w, "| hotline peak resident memory | %.1f MiB | report |\n", float64(r.PeakRSSKiB)/1024)
	fmt.Fprintf(w, "| load generator CPU (agents + capture, this process) | %.0f %% of one core | report |\n", r.SelfCPU*100)
	fmt.Fprintf(w, "| RTP packets sent by the hotline (metric) | %.0f | report |\n", r.RTPOut)
	fmt.Fprintf(w, "| recordings (hotline metrics) | %s | report |\n", r.Recorded)
	c, b, a := r.Capture.Legs[legCaller], r.Capture.Legs[legCallerBridged], r.Capture.Legs[legAgent]
	fmt.Fprintf(w, "| PCMU packets captured to callers / agents | %d / %d (seq jumps %d / %d, capture drops %d) | report |\n",
		c.Packets+b.Packets, a.Packets, c.Jumps+b.Jumps, a.Jumps, r.Capture.KernelDrops)
	fmt.Fprintf(w, "| hotline log warnings and errors | %d | report |\n", r.Warnings)
	if o := r.Opts; o.Supervisors > 0 {
		sv := r.Supervision
		perSec := 0.0
		if d := sv.Watched.Seconds(); d > 0 {
			perSec = float64(sv.Messages) / float64(o.Supervisors) / d
		}
		fmt.Fprintf(w, "| supervisors watching the wallboard | %d: %d messages (%.1f/s each, %.0f KiB average) | report |\n",
			o.Supervisors, sv.Messages, perSec, float64(sv.MessageBytes)/float64(max(sv.Messages, 1))/1024)
		fmt.Fprintf(w, "| **push latency**, call connected at the agent → on each supervisor's wallboard, median / p99 | %s, %d missing | ≤ %s %s |\n",
			sv.Push, sv.PushMissing, goalPush, check(sv.PushMissing == 0 && sv.Push.N > 0 && sv.Push.P99 <= goalPush))
		fmt.Fprintf(w, "| calls monitored at once (listen, one supervisor each) | %d of %d heard the agent's tone | all %s |\n",
			sv.MonitorsHeard, o.Monitor, check(sv.MonitorsHeard == o.Monitor))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Two-way audio: from the agent sending accept until both the agent's client has decoded the")
	fmt.Fprintln(w, "caller's audio and the hotline sends the agent's 1 kHz tone to that caller (first of 10")
	fmt.Fprintln(w, "tone frames, packet capture). Deviation: |gap − 20 ms| between consecutive packets of a")
	fmt.Fprintln(w, "stream (kernel receive time on lo, packet capture), excluding the first packet of a talkspurt")
	fmt.Fprintln(w, "(marker bit); the hotline's histogram measures its own paced sends inside the process.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Deviation by leg, share of gaps within (packet capture):")
	for _, l := range []struct {
		leg  leg
		name string
	}{{legCaller, "to callers, IVR and queue"}, {legCallerBridged, "to callers, bridged"}, {legAgent, "to agents, bridged"}} {
		fmt.Fprintf(w, "- %s: %s\n", l.name, devShares(r.Capture.Legs[l.leg].Dev))
	}
	for _, l := range r.FirstWarnings {
		fmt.Fprintf(w, "\n    %s", l)
	}
	if len(r.FirstWarnings) > 0 {
		fmt.Fprintln(w)
	}
	if r.Capture.Err != nil {
		fmt.Fprintf(w, "\nCapture stopped early: %v\n", r.Capture.Err)
	}
}
