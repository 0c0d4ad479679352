package kpi

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// CSV row kinds (the "kind" column of WriteCSV).
const (
	RowQueue     = "queue"      // one queue
	RowAllQueues = "all_queues" // the reported queues together
	RowAgent     = "agent"      // one agent
	RowAllAgents = "all_agents" // the agents together
)

// CSV scopes (the "scope" column of WriteCSV).
const (
	ScopeBucket   = "bucket"   // a row of one bucket
	ScopeInterval = "interval" // a row of the whole interval (only when there are several buckets)
)

// csvKeys are the figure columns, in order: the queue figures, then the
// agent-only ones.
func csvKeys(r Report) []string {
	var keys []string
	seen := map[string]bool{}
	for _, f := range append(r.Total.AllQueues.Figures(), r.Total.AllAgents.Figures()...) {
		if !seen[f.Key] {
			seen[f.Key] = true
			keys = append(keys, f.Key)
		}
	}
	return keys
}

// WriteCSV writes r as one table: a row per (bucket, queue) plus the
// all-queues row, then a row per (bucket, agent) plus the all-agents row;
// when r has several buckets, the same rows again for the whole interval
// (scope "interval"). Columns: scope, bucket_start, bucket_end (RFC 3339
// in the report's zone), kind (RowQueue, ...), name (queue or agent; ""
// for the all rows), sl_threshold_s (the row's T, "per_queue" when its
// queues differ), short_abandon_s, then each figure: its value and, for
// ratios and averages, its numerator and denominator (.num, .den). The
// header names each figure's KPI, variant and thresholds, e.g.
// "sl_default [service_level b; T=20s; short<5s]". A figure that does not
// apply to a row (occupancy of a queue, ASA of an agent) or has no value
// (a ratio of 0 ÷ 0) is empty.
func WriteCSV(w io.Writer, r Report) error {
	keys := csvKeys(r)
	sample := map[string]Figure{}
	for _, f := range r.Total.AllQueues.Figures() {
		sample[f.Key] = f
	}
	for _, f := range r.Total.AllAgents.Figures() {
		if _, ok := sample[f.Key]; !ok {
			sample[f.Key] = f
		}
	}
	uniformT := "T=" + seconds(r.Thresholds.ServiceLevelS) + "s"
	for _, t := range r.Thresholds.QueuesS {
		if t != r.Thresholds.ServiceLevelS {
			uniformT = "T=per queue (sl_threshold_s)"
		}
	}
	header := []string{"scope", "bucket_start", "bucket_end", "kind", "name", "sl_threshold_s", "short_abandon_s"}
	for _, k := range keys {
		f := sample[k]
		label := k + " [" + f.Name + " " + f.Variant
		if f.ThresholdS != nil || f.ThresholdPerQueue {
			label += "; " + uniformT
		}
		if f.ShortAbandonS != nil {
			label += "; short<" + seconds(*f.ShortAbandonS) + "s"
		}
		label += "; " + f.Unit + "]"
		header = append(header, label)
		if f.Denominator != nil {
			header = append(header, k+".num", k+".den")
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	short := seconds(r.Thresholds.ShortAbandonS)
	row := func(scope string, b Bucket, kind, name, threshold string, figures []Figure) error {
		by := map[string]Figure{}
		for _, f := range figures {
			by[f.Key] = f
		}
		rec := []string{scope, b.Start.Format(time.RFC3339), b.End.Format(time.RFC3339), kind, name, threshold, short}
		for _, k := range keys {
			f, ok := by[k]
			rec = append(rec, num(f.Value))
			if sample[k].Denominator != nil {
				if ok {
					rec = append(rec, num(f.Numerator), num(f.Denominator))
				} else {
					rec = append(rec, "", "")
				}
			}
		}
		return cw.Write(rec)
	}
	write := func(scope string, b Bucket) error {
		for _, q := range b.Queues {
			if err := row(scope, b, RowQueue, q.Queue, rowThreshold(q), q.Figures()); err != nil {
				return err
			}
		}
		if err := row(scope, b, RowAllQueues, "", rowThreshold(b.AllQueues), b.AllQueues.Figures()); err != nil {
			return err
		}
		for _, a := range b.Agents {
			if err := row(scope, b, RowAgent, a.Agent, "", a.Figures()); err != nil {
				return err
			}
		}
		return row(scope, b, RowAllAgents, "", "", b.AllAgents.Figures())
	}
	for _, b := range r.Buckets {
		if err := write(ScopeBucket, b); err != nil {
			return err
		}
	}
	if len(r.Buckets) > 1 {
		if err := write(ScopeInterval, r.Total); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("kpi: csv: %w", err)
	}
	return nil
}

func rowThreshold(q QueueStats) string {
	if q.SLDefault.ThresholdPerQueue {
		return "per_queue"
	}
	return num(q.SLDefault.ThresholdS)
}

func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func seconds(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
