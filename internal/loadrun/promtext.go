package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// metricSample is one line of the Prometheus text exposition format:
// name{labels} value.
type metricSample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// maxMetricLine bounds one exposition line.
const maxMetricLine = 1 << 20

// parseMetrics reads the Prometheus text exposition format (version 0.0.4):
// comments and blank lines are skipped, every other line is a sample with an
// optional label set and an optional timestamp. A malformed line is an error
// naming its line number.
func parseMetrics(r io.Reader) ([]metricSample, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxMetricLine)
	var out []metricSample
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseSampleLine(line)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: %w", n, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return out, nil
}

// parseSampleLine parses `name{a="b",c="d"} value [timestamp]`.
func parseSampleLine(line string) (metricSample, error) {
	i := strings.IndexAny(line, "{ \t")
	if i <= 0 {
		return metricSample{}, fmt.Errorf("no value in %q", line)
	}
	s := metricSample{Name: line[:i], Labels: map[string]string{}}
	if !validMetricName(s.Name) {
		return metricSample{}, fmt.Errorf("bad metric name %q", s.Name)
	}
	rest := line[i:]
	if rest[0] == '{' {
		var err error
		if rest, err = parseLabels(rest[1:], s.Labels); err != nil {
			return metricSample{}, err
		}
	}
	fields := strings.Fields(rest)
	if len(fields) < 1 || len(fields) > 2 {
		return metricSample{}, fmt.Errorf("want a value and an optional timestamp, got %q", rest)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return metricSample{}, fmt.Errorf("bad value %q", fields[0])
	}
	s.Value = v
	return s, nil
}

// parseLabels reads `a="b",c="d"}` into dst and returns what follows the '}'.
func parseLabels(s string, dst map[string]string) (string, error) {
	for {
		s = strings.TrimLeft(s, " \t")
		if strings.HasPrefix(s, "}") {
			return s[1:], nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return "", errors.New("bad label set")
		}
		name := strings.TrimSpace(s[:eq])
		if !validMetricName(name) {
			return "", fmt.Errorf("bad label name %q", name)
		}
		s = strings.TrimLeft(s[eq+1:], " \t")
		if !strings.HasPrefix(s, `"`) {
			return "", fmt.Errorf("label %s: value not quoted", name)
		}
		val, n, err := unquoteLabel(s[1:])
		if err != nil {
			return "", fmt.Errorf("label %s: %w", name, err)
		}
		dst[name] = val
		s = strings.TrimLeft(s[1+n:], " \t")
		if strings.HasPrefix(s, ",") {
			s = s[1:]
		} else if !strings.HasPrefix(s, "}") {
			return "", fmt.Errorf("label %s: want ',' or '}'", name)
		}
	}
}

// unquoteLabel reads a label value up to its closing quote, undoing the
// format's three escapes (\\, \", \n). It returns the value and how many bytes
// of s it used, the closing quote included.
func unquoteLabel(s string) (string, int, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 == len(s) {
				return "", 0, errors.New("unterminated escape")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case '\\', '"':
				b.WriteByte(s[i])
			default:
				return "", 0, fmt.Errorf("bad escape \\%c", s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated label value")
}

// validMetricName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]*.
func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// metricValue returns the value of the sample called name whose labels
// include every pair in match, and whether there was one.
func metricValue(samples []metricSample, name string, match map[string]string) (float64, bool) {
	for _, s := range samples {
		if s.Name == name && labelsMatch(s.Labels, match) {
			return s.Value, true
		}
	}
	return 0, false
}

// labelsMatch reports whether have holds every pair of want.
func labelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// byLabel returns, for every sample called name, its value keyed by the
// value of one label (e.g. calls_total by outcome).
func byLabel(samples []metricSample, name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range samples {
		if s.Name == name {
			out[s.Labels[label]] += s.Value
		}
	}
	return out
}

// bucket is one cumulative histogram bucket: Count observations ≤ UpperBound.
type bucket struct {
	UpperBound float64
	Count      float64
}

// errNoObservations reports a histogram that has seen nothing yet.
var errNoObservations = errors.New("histogram has no observations")

// histogramBuckets returns the cumulative buckets of the histogram called
// name (its name_bucket samples), sorted by upper bound and checked: finite
// non-negative counts that never decrease, ending with a +Inf bucket.
func histogramBuckets(samples []metricSample, name string) ([]bucket, error) {
	var bs []bucket
	for _, s := range samples {
		if s.Name != name+"_bucket" {
			continue
		}
		le, ok := s.Labels["le"]
		if !ok {
			return nil, fmt.Errorf("%s_bucket without le label", name)
		}
		ub, err := strconv.ParseFloat(le, 64)
		if err != nil || math.IsNaN(ub) || math.IsInf(ub, -1) {
			return nil, fmt.Errorf("%s_bucket: bad le %q", name, le)
		}
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) || s.Value < 0 {
			return nil, fmt.Errorf("%s_bucket{le=%q}: bad count %v", name, le, s.Value)
		}
		bs = append(bs, bucket{UpperBound: ub, Count: s.Value})
	}
	if len(bs) == 0 {
		return nil, fmt.Errorf("no histogram %s", name)
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].UpperBound < bs[j].UpperBound })
	if !math.IsInf(bs[len(bs)-1].UpperBound, 1) {
		return nil, fmt.Errorf("histogram %s has no +Inf bucket", name)
	}
	for i := 1; i < len(bs); i++ {
		if bs[i].Count < bs[i-1].Count {
			return nil, fmt.Errorf("histogram %s: bucket counts are not cumulative", name)
		}
	}
	return bs, nil
}

// histogramQuantile returns the q-quantile (0 < q < 1) of the histogram
// called name, interpolating linearly inside the bucket the rank falls in, as
// Prometheus's histogram_quantile does: the first bucket starts at 0, and a
// rank in the +Inf bucket yields the highest finite upper bound. inInf
// reports that case (the true value is above it).
func histogramQuantile(samples []metricSample, name string, q float64) (v float64, inInf bool, err error) {
	if !(q > 0 && q < 1) {
		return 0, false, fmt.Errorf("quantile %v out of (0, 1)", q)
	}
	bs, err := histogramBuckets(samples, name)
	if err != nil {
		return 0, false, err
	}
	total := bs[len(bs)-1].Count
	if total == 0 {
		return 0, false, errNoObservations
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for i, b := range bs {
		if b.Count < rank {
			lower, below = b.UpperBound, b.Count
			continue
		}
		if math.IsInf(b.UpperBound, 1) {
			if i == 0 {
				return 0, true, nil
			}
			return bs[i-1].UpperBound, true, nil
		}
		if b.Count == below {
			return b.UpperBound, false, nil
		}
		if lower > b.UpperBound { // a negative first bound: start there
			lower = b.UpperBound
		}
		return lower + (b.UpperBound-lower)*(rank-below)/(b.Count-below), false, nil
	}
	return bs[len(bs)-1].UpperBound, true, nil // unreachable: +Inf holds total ≥ rank
}
