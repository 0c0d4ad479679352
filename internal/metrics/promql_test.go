package metrics

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// This file holds what the deploy files' test checks against: the metric
// families the process registers (walked from the collectors' Describe
// output, their types and buckets from one Gather once every vector has a
// child), and a small PromQL reader that finds the metrics and labels an
// expression uses. It is not a PromQL parser: it knows selectors, matchers,
// ranges, strings, Grafana variables and the grouping clauses, which is
// what the check needs; promtool checks the syntax where it is installed.

// family is one registered metric family.
type family struct {
	typ     dto.MetricType
	labels  map[string]bool
	buckets []float64 // histograms only
}

// recorder registers on a registry and keeps every collector, so a test can
// walk their Describe output.
type recorder struct {
	prometheus.Registerer
	collectors []prometheus.Collector
}

// Register keeps c and registers it.
func (r *recorder) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return r.Registerer.Register(c)
}

// MustRegister keeps cs and registers them.
func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	r.collectors = append(r.collectors, cs...)
	r.Registerer.MustRegister(cs...)
}

// feed gives every vector of s a child, through the methods cmd and the
// subsystems call, so each family shows in Gather with its labels.
func feed(s *Set) {
	s.SIP.Request("INVITE")
	s.SIP.Response(200)
	s.SIP.Dropped("no_media_port")
	s.RTP.PacketReceived()
	s.RTP.PacketSent()
	s.RTP.PacketDropped("malformed")
	s.RTP.PacerWake(time.Millisecond, time.Millisecond)
	s.RTP.SendInterval(21 * time.Millisecond)
	s.Calls.CallStarted()
	s.Calls.CallEnded("queued")
	s.Calls.Digit("rfc4733")
	s.Calls.IVROutcome("demo", "queue")
	s.Store.SetPending(1)
	s.Queues.SetQueue("support", 1, 1, 10*time.Second)
	s.Queues.Left("support", "answered", 12*time.Second)
	s.Queues.SetAgents(map[string]int{"ready": 1})
	s.Queues.SetQueueAgents("support", map[string]int{"ready": 1})
	s.Queues.Handled("support", time.Minute, 0, 10*time.Second)
	s.Recordings.RecordingStarted()
	s.Recordings.RecordingBytes(160)
	s.Recordings.RecordingWrite(time.Millisecond)
	s.Recordings.RecordingFailed("write")
	s.Recordings.RecordingEnded()
	s.Webhooks.Endpoint("crm")
	s.Webhooks.WebhookAttempt("crm", true, 10*time.Millisecond)
	s.Webhooks.WebhookDropped("crm", "dead")
	s.Webhooks.WebhookOldestPending("crm", time.Second)
}

var (
	descName   = regexp.MustCompile(`fqName: "([^"]*)"`)
	descLabels = regexp.MustCompile(`variableLabels: \{([^}]*)\}\}$`)
)

// registeredFamilies builds the process's metric set and returns every
// family it registers, by name.
func registeredFamilies(t *testing.T) map[string]family {
	t.Helper()
	reg := prometheus.NewRegistry()
	rec := &recorder{Registerer: reg}
	feed(newSet(reg, rec))

	fams := map[string]family{}
	for _, c := range rec.collectors {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			s := d.String()
			name := descName.FindStringSubmatch(s)
			labels := descLabels.FindStringSubmatch(s)
			require.NotNil(t, name, "cannot read the name of %s", s)
			require.NotNil(t, labels, "cannot read the labels of %s", s)
			f := family{labels: map[string]bool{}}
			for l := range strings.SplitSeq(labels[1], ",") {
				if l = strings.TrimSpace(l); l != "" {
					f.labels[l] = true
				}
			}
			fams[name[1]] = f
		}
	}
	gathered, err := reg.Gather()
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, mf := range gathered {
		f, ok := fams[mf.GetName()]
		if !ok {
			continue // the Go collector gathers more than it describes up front
		}
		seen[mf.GetName()] = true
		f.typ = mf.GetType()
		if h := mf.GetMetric()[0].GetHistogram(); h != nil {
			for _, b := range h.GetBucket() {
				f.buckets = append(f.buckets, b.GetUpperBound())
			}
		}
		fams[mf.GetName()] = f
	}
	for name := range fams {
		if strings.HasPrefix(name, "hotline_") {
			require.True(t, seen[name], "%s is registered but feed gives it no series: add a call to feed", name)
		}
	}
	return fams
}

// A small PromQL lexer.

type tokKind int

const (
	tIdent tokKind = iota
	tString
	tNumber
	tPunct
	tRange // [5m], [$__rate_interval], [1h:5m]: content in s
	tVar   // a Grafana variable outside a string
)

type token struct {
	kind tokKind
	s    string
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

// lex splits a PromQL expression (which may hold Grafana variables) into tokens.
func lex(expr string) ([]token, error) {
	var out []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			var b strings.Builder
			j := i + 1
			for ; j < len(expr) && expr[j] != c; j++ {
				if expr[j] == '\\' && c != '`' && j+1 < len(expr) {
					j++
				}
				b.WriteByte(expr[j])
			}
			if j >= len(expr) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			out = append(out, token{tString, b.String()})
			i = j + 1
		case c == '[':
			j := strings.IndexByte(expr[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated range at %d", i)
			}
			out = append(out, token{tRange, strings.TrimSpace(expr[i+1 : i+j])})
			i += j + 1
		case c == '$':
			j := i + 1
			if j < len(expr) && expr[j] == '{' {
				k := strings.IndexByte(expr[j:], '}')
				if k < 0 {
					return nil, fmt.Errorf("unterminated variable at %d", i)
				}
				j += k + 1
			} else {
				for j < len(expr) && isIdent(expr[j]) {
					j++
				}
			}
			out = append(out, token{tVar, expr[i:j]})
			i = j
		case '0' <= c && c <= '9' || c == '.' && i+1 < len(expr) && '0' <= expr[i+1] && expr[i+1] <= '9':
			j := i
			for j < len(expr) && (isIdent(expr[j]) || expr[j] == '.') && expr[j] != ':' {
				j++
			}
			out = append(out, token{tNumber, expr[i:j]})
			i = j
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			out = append(out, token{tIdent, expr[i:j]})
			i = j
		default:
			if i+1 < len(expr) {
				switch two := expr[i : i+2]; two {
				case "=~", "!~", "!=", "==", "<=", ">=":
					out = append(out, token{tPunct, two})
					i += 2
					continue
				}
			}
			if !strings.ContainsRune("(){},=<>+-*/%^@", rune(c)) {
				return nil, fmt.Errorf("unexpected %q at %d", c, i)
			}
			out = append(out, token{tPunct, string(c)})
			i++
		}
	}
	return out, nil
}

var (
	aggregators = map[string]bool{
		"sum": true, "avg": true, "min": true, "max": true, "count": true, "group": true, "stddev": true,
		"stdvar": true, "topk": true, "bottomk": true, "quantile": true, "count_values": true,
	}
	functions = map[string]bool{
		"abs": true, "absent": true, "absent_over_time": true, "avg_over_time": true, "ceil": true, "changes": true,
		"clamp": true, "clamp_max": true, "clamp_min": true, "count_over_time": true, "day_of_week": true,
		"delta": true, "deriv": true, "exp": true, "floor": true, "histogram_quantile": true, "hour": true,
		"idelta": true, "increase": true, "irate": true, "label_join": true, "label_replace": true,
		"last_over_time": true, "ln": true, "log10": true, "log2": true, "max_over_time": true, "min_over_time": true,
		"minute": true, "predict_linear": true, "quantile_over_time": true, "rate": true, "resets": true,
		"round": true, "scalar": true, "sgn": true, "sort": true, "sort_desc": true, "sqrt": true,
		"stddev_over_time": true, "sum_over_time": true, "time": true, "timestamp": true, "vector": true,
	}
	keywords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true, "inf": true, "nan": true,
	}
	// clauses take a list of label names in parentheses.
	clauses = map[string]bool{
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	}
	// targetLabels are attached by Prometheus when it scrapes, not by hotline.
	targetLabels = map[string]bool{"instance": true, "job": true}
	// builtins are series Prometheus makes itself.
	builtins = map[string]family{"up": {typ: dto.MetricType_GAUGE, labels: map[string]bool{}}}
)

// matcher is one label matcher of a selector.
type matcher struct{ label, op, value string }

// selector is one metric selector: a name and its matchers, at a token.
type selector struct {
	name     string
	matchers []matcher
	at       int
}

// clause is a grouping clause (by, on, ...) with its labels, at a token.
type clause struct {
	kind   string
	labels []string
	at     int
	// arg is the token range the clause applies to, both ends excluded: an
	// aggregation's argument for by/without, the whole expression otherwise
	// (an approximation for on and ignoring: every metric of the
	// expression must carry the label).
	arg [2]int
}

// query is what an expression uses.
type query struct {
	selectors []selector
	clauses   []clause
	quantiles [][2]int // token ranges of histogram_quantile's arguments
}

// read finds the selectors and clauses of expr.
func read(expr string) (query, error) {
	var q query
	toks, err := lex(expr)
	if err != nil {
		return q, err
	}
	match := make([]int, len(toks)) // index of the matching bracket
	var stack []int
	for i, tk := range toks {
		if tk.kind != tPunct {
			continue
		}
		switch tk.s {
		case "(", "{":
			stack = append(stack, i)
		case ")", "}":
			if len(stack) == 0 {
				return q, fmt.Errorf("unbalanced %q", tk.s)
			}
			open := stack[len(stack)-1]
			if (toks[open].s == "(") != (tk.s == ")") {
				return q, fmt.Errorf("%q closed by %q", toks[open].s, tk.s)
			}
			stack = stack[:len(stack)-1]
			match[open], match[i] = i, open
		}
	}
	if len(stack) > 0 {
		return q, fmt.Errorf("unclosed %q", toks[stack[len(stack)-1]].s)
	}
	isPunct := func(i int, s string) bool { return i >= 0 && i < len(toks) && toks[i].kind == tPunct && toks[i].s == s }
	for i := 0; i < len(toks); i++ {
		tk := toks[i]
		switch {
		case tk.kind == tPunct && tk.s == "{":
			return q, fmt.Errorf("a selector without a metric name cannot be checked")
		case tk.kind != tIdent:
		case clauses[tk.s]:
			c := clause{kind: tk.s, at: i, arg: [2]int{-1, len(toks)}}
			if !isPunct(i+1, "(") {
				if tk.s == "group_left" || tk.s == "group_right" {
					q.clauses = append(q.clauses, c)
					continue
				}
				return q, fmt.Errorf("%s without a label list", tk.s)
			}
			end := match[i+1]
			for j := i + 2; j < end; j++ {
				switch {
				case toks[j].kind == tIdent:
					c.labels = append(c.labels, toks[j].s)
				case !isPunct(j, ","):
					return q, fmt.Errorf("%s (...) holds %q", tk.s, toks[j].s)
				}
			}
			if tk.s == "by" || tk.s == "without" {
				switch {
				case i > 0 && toks[i-1].kind == tIdent && aggregators[toks[i-1].s] && isPunct(end+1, "("):
					c.arg = [2]int{end + 1, match[end+1]} // sum by (x) (expr)
				case isPunct(i-1, ")") && match[i-1] > 0 && toks[match[i-1]-1].kind == tIdent &&
					aggregators[toks[match[i-1]-1].s]:
					c.arg = [2]int{match[i-1], i - 1} // sum (expr) by (x)
				default:
					return q, fmt.Errorf("%s is not on an aggregation", tk.s)
				}
			}
			q.clauses = append(q.clauses, c)
			i = end
		case keywords[strings.ToLower(tk.s)]:
		case isPunct(i+1, "("):
			if !aggregators[tk.s] && !functions[tk.s] {
				return q, fmt.Errorf("unknown function %s", tk.s)
			}
			if tk.s == "histogram_quantile" {
				q.quantiles = append(q.quantiles, [2]int{i + 1, match[i+1]})
			}
		case aggregators[tk.s] && (i+1 < len(toks) && toks[i+1].kind == tIdent && clauses[toks[i+1].s]):
			// sum by (x) (expr): the clause comes next
		default:
			s := selector{name: tk.s, at: i}
			if isPunct(i+1, "{") {
				end := match[i+1]
				for j := i + 2; j < end; {
					if toks[j].kind != tIdent || j+2 >= end+1 || toks[j+1].kind != tPunct || toks[j+2].kind != tString {
						return q, fmt.Errorf("cannot read the matchers of %s", tk.s)
					}
					switch toks[j+1].s {
					case "=", "!=", "=~", "!~":
					default:
						return q, fmt.Errorf("matcher %s%s on %s", toks[j].s, toks[j+1].s, tk.s)
					}
					s.matchers = append(s.matchers, matcher{toks[j].s, toks[j+1].s, toks[j+2].s})
					j += 3
					if isPunct(j, ",") {
						j++
					}
				}
				i = end
			}
			q.selectors = append(q.selectors, s)
		}
	}
	return q, nil
}

// resolve finds the family a series name belongs to, and the labels its
// series carry (le for a histogram's _bucket).
func resolve(name string, fams map[string]family) (family, map[string]bool, error) {
	if f, ok := fams[name]; ok {
		if f.typ == dto.MetricType_HISTOGRAM || f.typ == dto.MetricType_SUMMARY {
			return f, nil, fmt.Errorf("%s is a %s: use %s_bucket, _sum or _count", name, f.typ, name)
		}
		return f, f.labels, nil
	}
	if f, ok := builtins[name]; ok {
		return f, f.labels, nil
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		f, found := fams[base]
		if !ok || !found {
			continue
		}
		if f.typ != dto.MetricType_HISTOGRAM && (f.typ != dto.MetricType_SUMMARY || suffix == "_bucket") {
			return f, nil, fmt.Errorf("%s: %s is a %s, it has no %s series", name, base, f.typ, suffix)
		}
		labels := map[string]bool{}
		for l := range f.labels {
			labels[l] = true
		}
		if suffix == "_bucket" {
			labels["le"] = true
		}
		return f, labels, nil
	}
	return family{}, nil, fmt.Errorf("metric %s is not registered by the process", name)
}

var grafanaVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)`)

// expand returns value with its Grafana variables replaced, once for each
// value they can take (vars; a variable takes one value throughout), or an
// error for a variable with no known values.
func expand(value string, vars map[string][]string) ([]string, error) {
	loc := grafanaVar.FindStringSubmatchIndex(value)
	if loc == nil {
		return []string{value}, nil
	}
	var name string
	if loc[2] >= 0 {
		name = value[loc[2]:loc[3]] // ${name}
	} else {
		name = value[loc[4]:loc[5]] // $name
	}
	opts, ok := vars[name]
	if !ok {
		return nil, fmt.Errorf("variable $%s has no fixed values to check", name)
	}
	var out []string
	for _, o := range opts {
		one := grafanaVar.ReplaceAllStringFunc(value, func(v string) string {
			if m := grafanaVar.FindStringSubmatch(v); m[1] == name || m[2] == name {
				return o
			}
			return v
		})
		rest, err := expand(one, vars)
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
	}
	return out, nil
}

// checkLe checks an le matcher: plain bucket bounds joined by |, each
// integer bound in both spellings, as Prometheus 2 keeps what the process
// exposes ("20") and Prometheus 3 normalises it ("20.0").
func checkLe(m matcher, f family, vars map[string][]string) error {
	if m.op != "=~" && m.op != "=" {
		return fmt.Errorf("le%s%q: only = and =~ on le can be checked", m.op, m.value)
	}
	values, err := expand(m.value, vars)
	if err != nil {
		return err
	}
	for _, v := range values {
		alts := strings.Split(v, "|")
		for _, a := range alts {
			b, err := strconv.ParseFloat(a, 64)
			if err != nil {
				return fmt.Errorf("le%s%q: %q is not a bucket bound", m.op, m.value, a)
			}
			if !math.IsInf(b, 1) && !slices.Contains(f.buckets, b) {
				return fmt.Errorf("le%s%q: %v is not a bucket bound (%v)", m.op, m.value, b, f.buckets)
			}
			if b == math.Trunc(b) && !math.IsInf(b, 1) {
				plain := strconv.FormatFloat(b, 'f', -1, 64)
				if !slices.Contains(alts, plain) || !slices.Contains(alts, plain+".0") {
					return fmt.Errorf(`le%s%q: match both %q and "%s.0" (Prometheus 3 normalises bucket bounds)`,
						m.op, m.value, plain, plain)
				}
			}
		}
	}
	return nil
}

// checkExpr returns what is wrong with expr against the registered
// families: metrics the process does not register, labels they do not
// carry in a matcher or a grouping clause, le values that are no bucket,
// histogram_quantile over anything but buckets grouped by le.
func checkExpr(expr string, fams map[string]family, vars map[string][]string) []string {
	q, err := read(expr)
	if err != nil {
		return []string{err.Error()}
	}
	var errs []string
	labelsAt := map[int]map[string]bool{}
	names := map[int]string{}
	var unknown []int // selectors of metrics not registered
	hotline := false
	for _, s := range q.selectors {
		f, labels, err := resolve(s.name, fams)
		if err != nil {
			errs = append(errs, err.Error())
			unknown = append(unknown, s.at)
			continue
		}
		hotline = hotline || strings.HasPrefix(s.name, "hotline_")
		labelsAt[s.at], names[s.at] = labels, s.name
		for _, m := range s.matchers {
			switch {
			case m.label == "__name__":
				errs = append(errs, fmt.Sprintf("%s: a __name__ matcher cannot be checked", s.name))
			case !labels[m.label] && !targetLabels[m.label]:
				errs = append(errs, fmt.Sprintf("%s has no label %s", s.name, m.label))
			case m.label == "le":
				if err := checkLe(m, f, vars); err != nil {
					errs = append(errs, fmt.Sprintf("%s: %v", s.name, err))
				}
			}
		}
	}
	if !hotline && len(errs) == 0 {
		errs = append(errs, "the expression uses no hotline metric")
	}
	for _, c := range q.clauses {
		found := false
		for at, labels := range labelsAt {
			if at <= c.arg[0] || at >= c.arg[1] {
				continue
			}
			found = true
			for _, l := range c.labels {
				if !labels[l] && !targetLabels[l] {
					errs = append(errs, fmt.Sprintf("%s (%s): %s has no label %s", c.kind, strings.Join(c.labels, ", "), names[at], l))
				}
			}
		}
		if !found && len(c.labels) > 0 && !slices.ContainsFunc(unknown, func(at int) bool { return at > c.arg[0] && at < c.arg[1] }) {
			errs = append(errs, fmt.Sprintf("%s (%s) applies to no metric", c.kind, strings.Join(c.labels, ", ")))
		}
	}
	for _, r := range q.quantiles {
		for at, name := range names {
			if at > r[0] && at < r[1] && !strings.HasSuffix(name, "_bucket") {
				errs = append(errs, fmt.Sprintf("histogram_quantile over %s, not a _bucket series", name))
			}
		}
		for _, c := range q.clauses {
			if c.kind == "by" && c.at > r[0] && c.at < r[1] && !slices.Contains(c.labels, "le") {
				errs = append(errs, fmt.Sprintf("histogram_quantile over by (%s) without le", strings.Join(c.labels, ", ")))
			}
		}
	}
	slices.Sort(errs)
	return slices.Compact(errs)
}

// The reader must see what a careless edit of the dashboard or the rules
// would get wrong, or the deploy test proves nothing.
func TestCheckExpr(t *testing.T) {
	fams := registeredFamilies(t)
	vars := map[string][]string{"sl_threshold": {"20", "30"}}
	for _, tc := range []struct {
		expr string
		want []string // substrings of the errors, in order; none for a good expression
	}{
		{`sum by (queue) (increase(hotline_queue_wait_seconds_bucket{queue=~"$queue", outcome="answered", le=~"20|20.0"}[15m]))`, nil},
		{`sum(rate(hotline_queue_calls_total[5m])) by (queue, outcome)`, nil},
		{`histogram_quantile(0.99, sum by (instance, le) (rate(hotline_media_pacer_lateness_seconds_bucket[$__rate_interval])))`, nil},
		{`sum by (part) (hotline_queue_handle_seconds_sum) / on () group_left () (sum(hotline_queue_handle_seconds_count{part="talk"}) > 0)`, nil},
		{`hotline_queue_wait_seconds_bucket{le=~"$sl_threshold|${sl_threshold}.0"}`, nil},
		{`max by (queue) (hotline_queue_waiting) > 0 unless on (queue) sum by (queue) (hotline_queue_agents{state="ready"}) > 0`, nil},
		{`hotline_queue_wait_seconds_bucket{le=~"$sl_threshold"}`, []string{`match both "20" and "20.0"`}},
		{`hotline_queue_wait_seconds_bucket{le=~"25|25.0"}`, []string{"25 is not a bucket bound"}},
		{`hotline_queue_wait_seconds_bucket{le="20"}`, []string{`match both "20" and "20.0"`}},
		{`hotline_queue_wait_seconds_bucket{le=~"$unknown"}`, []string{"variable $unknown has no fixed values"}},
		{`rate(hotline_queue_wait_seconds[5m])`, []string{"is a HISTOGRAM: use hotline_queue_wait_seconds_bucket"}},
		{`rate(hotline_queue_calls_total_count[5m])`, []string{"is a COUNTER, it has no _count series"}},
		{`hotline_calls_active_bucket`, []string{"is a GAUGE, it has no _bucket series"}},
		{`sum(rate(hotline_queue_wiat_seconds_count[5m]))`, []string{"hotline_queue_wiat_seconds_count is not registered"}},
		{`hotline_queue_waiting{agent="alice"}`, []string{"hotline_queue_waiting has no label agent"}},
		{`hotline_queue_wait_seconds_sum{le="20"}`, []string{"hotline_queue_wait_seconds_sum has no label le"}},
		{`sum by (queue) (rate(hotline_calls_total[5m]))`, []string{"by (queue): hotline_calls_total has no label queue"}},
		{`sum(rate(hotline_calls_total[5m])) by (state)`, []string{"by (state): hotline_calls_total has no label state"}},
		{`hotline_queue_waiting / on (state) hotline_agents`, []string{"on (state): hotline_queue_waiting has no label state"}},
		{`histogram_quantile(0.9, sum by (queue) (rate(hotline_queue_wait_seconds_bucket[5m])))`, []string{"without le"}},
		{`histogram_quantile(0.9, rate(hotline_queue_wait_seconds_sum[5m]))`, []string{"not a _bucket series"}},
		{`increse(hotline_calls_total[5m])`, []string{"unknown function increse"}},
		{`{__name__="hotline_calls_total"}`, []string{"without a metric name"}},
		{`sum(up)`, []string{"uses no hotline metric"}},
		{`sum(rate(hotline_calls_total[5m])`, []string{"unclosed"}},
	} {
		errs := checkExpr(tc.expr, fams, vars)
		require.Len(t, errs, len(tc.want), "%s: %q", tc.expr, errs)
		for i, w := range tc.want {
			require.Contains(t, errs[i], w, tc.expr)
		}
	}
}
