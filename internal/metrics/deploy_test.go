package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"text/template"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The Grafana dashboard and the Prometheus alert rules in deploy/ are
// written against the metric names and labels of this package. These tests
// read both files and fail naming every metric or label they use that the
// process does not register, so renaming a metric breaks the build, not a
// supervisor's wallboard.

const (
	dashboardFile = "../../deploy/grafana/hotline-dashboard.json"
	alertsFile    = "../../deploy/prometheus/hotline-alerts.yml"
	alertTests    = "../../deploy/prometheus/hotline-alerts.test.yml"
	// dsVar is the datasource variable every panel and target names.
	dsVar = "${DS_PROMETHEUS}"
)

type gridPos struct{ H, W, X, Y int }

type datasource struct{ Type, UID string }

type target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *datasource `json:"datasource"`
}

type panel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	GridPos     *gridPos    `json:"gridPos"`
	Datasource  *datasource `json:"datasource"`
	Targets     []target    `json:"targets"`
	Panels      []panel     `json:"panels"` // a collapsed row's
	Repeat      string      `json:"repeat"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Datasource *datasource     `json:"datasource"`
	Options    []struct {
		Value string `json:"value"`
	} `json:"options"`
}

type dashboard struct {
	Title         string                    `json:"title"`
	UID           string                    `json:"uid"`
	SchemaVersion int                       `json:"schemaVersion"`
	Panels        []panel                   `json:"panels"`
	Templating    struct{ List []variable } `json:"templating"`
}

// allPanels flattens rows: the top-level panels and those of collapsed rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

var (
	labelValues = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)
	// usedVar finds Grafana variables in expressions and titles.
	usedVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]`)
)

// metricsOf returns the families an expression reads.
func metricsOf(t *testing.T, expr string, fams map[string]family) []string {
	t.Helper()
	q, err := read(expr)
	require.NoError(t, err)
	var out []string
	for _, s := range q.selectors {
		name := s.name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(s.name, suffix); ok && fams[base].typ == dto.MetricType_HISTOGRAM {
				name = base
			}
		}
		out = append(out, name)
	}
	return out
}

func TestDashboard(t *testing.T) {
	fams := registeredFamilies(t)
	raw, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(raw, &d), "the dashboard is not valid JSON")
	require.NotEmpty(t, d.Title)
	require.NotEmpty(t, d.UID)
	require.GreaterOrEqual(t, d.SchemaVersion, 36)

	// Variables: the datasource one every panel uses, and the values of
	// the custom ones, which expand() tries in le matchers.
	vars := map[string][]string{}
	defined := map[string]bool{}
	for _, v := range d.Templating.List {
		require.False(t, defined[v.Name], "variable %s defined twice", v.Name)
		defined[v.Name] = true
		switch v.Type {
		case "datasource":
			var q string
			require.NoError(t, json.Unmarshal(v.Query, &q))
			require.Equal(t, "prometheus", q, "variable %s", v.Name)
		case "custom":
			for _, o := range v.Options {
				vars[v.Name] = append(vars[v.Name], o.Value)
			}
			var q string
			require.NoError(t, json.Unmarshal(v.Query, &q))
			require.Equal(t, strings.Join(vars[v.Name], ","), q, "variable %s: its options and its query differ", v.Name)
		case "query":
			require.Equal(t, &datasource{Type: "prometheus", UID: dsVar}, v.Datasource, "variable %s", v.Name)
			var q struct{ Query string }
			if json.Unmarshal(v.Query, &q) != nil {
				require.NoError(t, json.Unmarshal(v.Query, &q.Query))
			}
			for _, def := range []string{q.Query, v.Definition} {
				m := labelValues.FindStringSubmatch(def)
				require.NotNil(t, m, "variable %s: only label_values(metric, label) is checked, not %q", v.Name, def)
				_, labels, err := resolve(m[1], fams)
				require.NoError(t, err, "variable %s", v.Name)
				require.True(t, labels[m[2]], "variable %s: %s has no label %s", v.Name, m[1], m[2])
			}
		default:
			t.Fatalf("variable %s: type %s is not checked", v.Name, v.Type)
		}
	}
	require.True(t, defined["DS_PROMETHEUS"], "the dashboard needs the DS_PROMETHEUS datasource variable")

	ids := map[int]string{}
	used := map[string]bool{}
	type rect struct {
		gridPos
		title string
	}
	var top []rect
	for _, p := range d.Panels {
		if p.GridPos != nil {
			top = append(top, rect{*p.GridPos, p.Title})
		}
	}
	var problems []string
	for _, p := range allPanels(d.Panels) {
		name := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		require.Positive(t, p.ID, name)
		require.NotContains(t, ids, p.ID, "%s: id taken by %q", name, ids[p.ID])
		ids[p.ID] = p.Title
		require.NotEmpty(t, p.Title, name)
		require.NotNil(t, p.GridPos, "%s has no gridPos", name)
		g := p.GridPos
		require.True(t, g.W > 0 && g.H > 0 && g.X >= 0 && g.Y >= 0 && g.X+g.W <= 24, "%s: gridPos %+v", name, *g)
		for _, m := range usedVar.FindAllStringSubmatch(p.Title, -1) {
			require.True(t, defined[m[1]+m[2]+m[3]], "%s: title uses undefined $%s", name, m[1]+m[2]+m[3])
		}
		if p.Repeat != "" {
			require.True(t, defined[p.Repeat], "%s repeats over undefined $%s", name, p.Repeat)
		}
		if p.Type == "row" {
			require.Empty(t, p.Targets, name)
			continue
		}
		require.NotEmpty(t, p.Description, "%s: say what it shows (and which KPI variant)", name)
		require.Equal(t, &datasource{Type: "prometheus", UID: dsVar}, p.Datasource, "%s: datasource", name)
		require.NotEmpty(t, p.Targets, "%s has no targets", name)
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			where := fmt.Sprintf("%s target %s", name, tg.RefID)
			require.NotEmpty(t, tg.RefID, name)
			require.False(t, refs[tg.RefID], "%s: refId twice", where)
			refs[tg.RefID] = true
			if tg.Datasource != nil {
				require.Equal(t, *p.Datasource, *tg.Datasource, "%s: datasource", where)
			}
			require.NotEmpty(t, strings.TrimSpace(tg.Expr), "%s: no expression", where)
			for _, m := range usedVar.FindAllStringSubmatch(tg.Expr, -1) {
				v := m[1] + m[2] + m[3]
				require.True(t, defined[v] || strings.HasPrefix(v, "__"), "%s uses undefined $%s", where, v)
			}
			for _, e := range checkExpr(tg.Expr, fams, vars) {
				problems = append(problems, where+": "+e)
			}
			for _, m := range metricsOf(t, tg.Expr, fams) {
				used[m] = true
			}
		}
	}
	require.Empty(t, problems, "the dashboard uses what the process does not register:\n%s", strings.Join(problems, "\n"))
	for i, a := range top {
		for _, b := range top[i+1:] {
			overlap := a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
			require.False(t, overlap, "panels %q %+v and %q %+v overlap", a.title, a.gridPos, b.title, b.gridPos)
		}
	}

	// What issue 11 asks the dashboard to show.
	for _, m := range []string{
		"hotline_queue_waiting", "hotline_queue_longest_wait_seconds", "hotline_queue_agents",
		"hotline_queue_wait_seconds", "hotline_queue_calls_total", "hotline_queue_offered_total", "hotline_queue_handle_seconds",
		"hotline_recordings_failed_total", "hotline_webhook_oldest_pending_seconds",
		"hotline_media_pacer_lateness_seconds", "hotline_sip_dropped_total",
	} {
		require.True(t, used[m], "the dashboard shows nothing from %s", m)
	}
}

// rule is one rule of a Prometheus rules file.
type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []rule `yaml:"rules"`
	} `yaml:"groups"`
}

// templateFuncs are the functions Prometheus offers alert templates; only
// their names matter to parse one.
func templateFuncs() template.FuncMap {
	fm := template.FuncMap{}
	for _, name := range []string{
		"humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp",
		"query", "first", "label", "value", "sortByLabel", "strvalue", "args", "reReplaceAll", "match",
		"title", "toUpper", "toLower", "graphLink", "tableLink", "safeHtml", "pathPrefix", "externalURL",
		"parseDuration", "stripPort", "stripDomain", "toTime",
	} {
		fm[name] = func(...any) any { return nil }
	}
	return fm
}

var labelRef = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)

func TestAlertRules(t *testing.T) {
	fams := registeredFamilies(t)
	raw, err := os.ReadFile(alertsFile)
	require.NoError(t, err)
	var f ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&f), "the rules file is not what Prometheus reads")
	require.NotEmpty(t, f.Groups)

	names := map[string]bool{}
	used := map[string]bool{}
	var problems []string
	groups := map[string]bool{}
	for _, g := range f.Groups {
		require.NotEmpty(t, g.Name)
		require.False(t, groups[g.Name], "group %s twice", g.Name)
		groups[g.Name] = true
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "group %s: a rule that is not an alert (record %q)", g.Name, r.Record)
			require.False(t, names[r.Alert], "alert %s twice", r.Alert)
			names[r.Alert] = true
			require.NotEmpty(t, r.For, "alert %s has no for", r.Alert)
			d, err := model.ParseDuration(r.For)
			require.NoError(t, err, "alert %s: for", r.Alert)
			require.Positive(t, d, "alert %s: for", r.Alert)
			require.Contains(t, []string{"critical", "warning", "info"}, r.Labels["severity"], "alert %s: severity", r.Alert)
			require.NotEmpty(t, r.Annotations["summary"], "alert %s has no summary", r.Alert)
			require.NotEmpty(t, r.Annotations["description"], "alert %s has no description", r.Alert)

			for _, e := range checkExpr(r.Expr, fams, nil) {
				problems = append(problems, r.Alert+": "+e)
			}
			for _, m := range metricsOf(t, r.Expr, fams) {
				used[m] = true
			}
			// The labels annotations name must survive the expression's
			// aggregation: one of its by or on clauses keeps them.
			q, err := read(r.Expr)
			require.NoError(t, err)
			kept := map[string]bool{}
			for _, c := range q.clauses {
				if c.kind == "by" || c.kind == "on" {
					for _, l := range c.labels {
						kept[l] = true
					}
				}
			}
			for key, text := range r.Annotations {
				// Prometheus defines these before expanding a template.
				defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
				_, err := template.New(key).Funcs(templateFuncs()).Parse(defs + text)
				require.NoError(t, err, "alert %s: annotation %s", r.Alert, key)
				for _, m := range labelRef.FindAllStringSubmatch(text, -1) {
					if !kept[m[1]] {
						problems = append(problems, fmt.Sprintf("%s: annotation %s names $labels.%s, which the expression does not keep", r.Alert, key, m[1]))
					}
				}
			}
		}
	}
	require.Empty(t, problems, "the alert rules use what the process does not register:\n%s", strings.Join(problems, "\n"))

	// What issue 11 asks the rules to watch.
	for _, m := range []string{
		"hotline_queue_wait_seconds", "hotline_queue_longest_wait_seconds", "hotline_queue_waiting",
		"hotline_queue_agents", "hotline_recordings_failed_total", "hotline_webhook_deliveries_total",
		"hotline_webhook_oldest_pending_seconds", "hotline_sip_dropped_total",
	} {
		require.True(t, used[m], "no alert watches %s", m)
	}
}

// The promtool unit tests of the rules (run where promtool is installed)
// feed series the process really exposes, and show every alert firing.
func TestAlertRulesTests(t *testing.T) {
	fams := registeredFamilies(t)
	raw, err := os.ReadFile(alertTests)
	require.NoError(t, err)
	var f struct {
		RuleFiles          []string `yaml:"rule_files"`
		EvaluationInterval string   `yaml:"evaluation_interval"`
		Tests              []struct {
			Interval      string                            `yaml:"interval"`
			InputSeries   []struct{ Series, Values string } `yaml:"input_series"`
			AlertRuleTest []struct {
				EvalTime  string `yaml:"eval_time"`
				Alertname string `yaml:"alertname"`
				ExpAlerts []struct {
					ExpLabels      map[string]string `yaml:"exp_labels"`
					ExpAnnotations map[string]string `yaml:"exp_annotations"`
				} `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&f))
	require.Equal(t, []string{"hotline-alerts.yml"}, f.RuleFiles)

	fired := map[string]bool{}
	var problems []string
	for _, tc := range f.Tests {
		for _, in := range tc.InputSeries {
			// The series are plain selectors with = matchers: read them as
			// PromQL, le="20" is what Prometheus 2 stores.
			q, err := read(in.Series)
			require.NoError(t, err, in.Series)
			require.Len(t, q.selectors, 1, in.Series)
			_, labels, err := resolve(q.selectors[0].name, fams)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			for _, m := range q.selectors[0].matchers {
				if !labels[m.label] && !targetLabels[m.label] {
					problems = append(problems, fmt.Sprintf("%s has no label %s", q.selectors[0].name, m.label))
				}
			}
		}
		for _, at := range tc.AlertRuleTest {
			if len(at.ExpAlerts) > 0 {
				fired[at.Alertname] = true
			}
		}
	}
	require.Empty(t, problems, "the promtool tests feed series the process does not expose:\n%s", strings.Join(problems, "\n"))

	raw, err = os.ReadFile(alertsFile)
	require.NoError(t, err)
	var rules ruleFile
	require.NoError(t, yaml.Unmarshal(raw, &rules))
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			require.True(t, fired[r.Alert], "no promtool test shows %s firing", r.Alert)
		}
	}
}
