package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/hotline/hotline/internal/sipptest"
)

// Metric names read from the hotline's /metrics.
const (
	metricActive    = "hotline_calls_active"
	metricCalls     = "hotline_calls_total"
	metricDeviation = "hotline_rtp_send_interval_deviation_seconds"
	metricRTP       = "hotline_rtp_packets_total"
	metricRTPDrop   = "hotline_rtp_dropped_total"
	metricSIPDrop   = "hotline_sip_dropped_total"
	metricResponses = "hotline_sip_responses_total"
	metricLateness  = "hotline_media_pacer_lateness_seconds"
	metricWork      = "hotline_media_pacer_work_seconds"
)

// scrapeTimeout bounds one /metrics request.
const scrapeTimeout = 5 * time.Second

// scrape fetches and parses http://addr/metrics.
func scrape(ctx context.Context, client *http.Client, addr string) ([]metricSample, error) {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape /metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

// activeCalls returns a live probe that reads hotline_calls_active.
func activeCalls(client *http.Client, addr string) func(context.Context) int {
	return func(ctx context.Context) int {
		ms, err := scrape(ctx, client, addr)
		if err != nil {
			return -1
		}
		v, ok := metricValue(ms, metricActive, nil)
		if !ok {
			return -1
		}
		return int(v)
	}
}

// waitIdle polls until hotline_calls_active is 0 or the wait passes, so the
// final scrape counts every ended call.
func waitIdle(ctx context.Context, client *http.Client, addr string, wait time.Duration) {
	deadline := time.Now().Add(wait)
	live := activeCalls(client, addr)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if live(ctx) == 0 {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sippLiveCalls returns a live probe that reads CurrentCall from the last row
// of a SIPp -trace_stat file (written once a second with -fd 1).
func sippLiveCalls(path string) func(context.Context) int {
	return func(context.Context) int {
		f, err := os.Open(path)
		if err != nil {
			return -1
		}
		defer f.Close()
		st, err := sipptest.ParseStats(f)
		if err != nil {
			return -1
		}
		return st.Current
	}
}
