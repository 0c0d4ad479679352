package kpi

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The fixed day of the tests: b is midnight 25 November in Berlin (CET,
// UTC+1), 23:00 UTC on the 24th, the boundary of the two day buckets.
var b = time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)

func sec(n int) time.Duration { return time.Duration(n) * time.Second }

// frac is a ratio or an average: numerator and denominator.
type frac [2]float64

// want maps a figure key to its value: a float64 (counts, max), a frac
// (ratios and averages; the value must be their quotient) or nil (no value).
type want map[string]any

func check(t *testing.T, where string, figures []Figure, w want) {
	t.Helper()
	byKey := map[string]Figure{}
	for _, f := range figures {
		byKey[f.Key] = f
	}
	for key, v := range w {
		f, ok := byKey[key]
		require.True(t, ok, "%s: no figure %s", where, key)
		switch v := v.(type) {
		case nil:
			require.Nil(t, f.Value, "%s %s", where, key)
		case float64:
			require.NotNil(t, f.Value, "%s %s", where, key)
			require.InDelta(t, v, *f.Value, 1e-9, "%s %s", where, key)
		case int:
			require.NotNil(t, f.Value, "%s %s", where, key)
			require.InDelta(t, float64(v), *f.Value, 1e-9, "%s %s", where, key)
		case frac:
			require.NotNil(t, f.Numerator, "%s %s", where, key)
			require.NotNil(t, f.Denominator, "%s %s", where, key)
			require.InDelta(t, v[0], *f.Numerator, 1e-9, "%s %s numerator", where, key)
			require.InDelta(t, v[1], *f.Denominator, 1e-9, "%s %s denominator", where, key)
			if v[1] == 0 {
				require.Nil(t, f.Value, "%s %s", where, key)
			} else {
				require.NotNil(t, f.Value, "%s %s", where, key)
				require.InDelta(t, v[0]/v[1], *f.Value, 1e-9, "%s %s", where, key)
			}
		default:
			t.Fatalf("bad want %T", v)
		}
	}
}

// Fixture returns the calls and agent events of the tests and the
// interval's config: two Berlin days, tech (T 20 s) and billing (T 45 s).
//
//	tech, 24th (Berlin): c1 answered at 5 s (anna), c2 at 15 s (boris),
//	                     c3 abandoned at 3 s (short), c4 overflow at 60 s
//	tech, 25th:          c5 answered at 25 s (anna), c6 abandoned at 30 s,
//	                     c10 still waiting, 50 s at AsOf
//	billing, 25th:       c7 answered at 40 s (boris)
//	c8 never queued; c9 queued the day before the interval.
func fixture(t *testing.T) (Config, []Call, []AgentEvent) {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	queued := func(id, queue string, at time.Duration) Call {
		return Call{ID: id, Queue: queue, ArrivedAt: b.Add(at - 30*time.Second), QueuedAt: b.Add(at)}
	}
	answered := func(c Call, wait, talk time.Duration, agent string) Call {
		c.ConnectedAt, c.Agent, c.Outcome = c.QueuedAt.Add(wait), agent, "answered"
		c.EndedAt = c.ConnectedAt.Add(talk)
		return c
	}
	ended := func(c Call, wait time.Duration, outcome string) Call {
		c.EndedAt, c.Outcome = c.QueuedAt.Add(wait), outcome
		return c
	}
	calls := []Call{
		answered(queued("c1", "tech", -50*time.Minute), sec(5), sec(210), "anna"),
		answered(queued("c2", "tech", -3*time.Minute), sec(15), sec(200), "boris"),
		ended(queued("c3", "tech", -30*time.Minute), sec(3), OutcomeAbandoned),
		ended(queued("c4", "tech", -20*time.Minute), sec(60), OutcomeOverflow),
		answered(queued("c5", "tech", 10*time.Minute), sec(25), sec(200), "anna"),
		ended(queued("c6", "tech", 20*time.Minute), sec(30), OutcomeAbandoned),
		answered(queued("c7", "billing", 30*time.Minute), sec(40), sec(300), "boris"),
		queued("c10", "tech", 40*time.Minute),
		{ID: "c8", ArrivedAt: b, EndedAt: b.Add(time.Minute), Outcome: "ivr-hangup"},
		answered(queued("c9", "tech", -30*time.Hour), sec(1), sec(10), "anna"),
	}
	ev := func(agent string, at time.Duration, state, call string) AgentEvent {
		return AgentEvent{Agent: agent, At: b.Add(at), State: state, CallID: call}
	}
	c1, c5 := -50*time.Minute, 10*time.Minute // anna's calls, queued at
	c2, c7 := -3*time.Minute, 30*time.Minute  // boris's
	events := []AgentEvent{
		// anna: c1 with talk 120 + 60 s, hold 30 s, wrap-up 20 s; lunch
		// across midnight; c5 with talk 200 s, wrap-up 40 s; signs out.
		ev("anna", -60*time.Minute, StateReady, ""),
		ev("anna", c1+sec(3), StateOffered, "c1"),
		ev("anna", c1+sec(5), StateOnCall, "c1"),
		ev("anna", c1+sec(125), StateOnHold, "c1"),
		ev("anna", c1+sec(155), "on-call", "c1"),
		ev("anna", c1+sec(215), StateWrapUp, ""), // no call id: the call she was on
		ev("anna", c1+sec(235), StateReady, ""),
		ev("anna", -30*time.Minute, StateNotReady, ""),
		ev("anna", 5*time.Minute, StateReady, ""),
		ev("anna", c5+sec(20), StateOffered, "c5"),
		ev("anna", c5+sec(25), StateOnCall, "c5"),
		ev("anna", c5+sec(225), StateWrapUp, "c5"),
		ev("anna", c5+sec(265), StateReady, ""),
		ev("anna", 30*time.Minute, StateSignedOut, ""),
		// boris: c2 from 165 s before midnight, talk 200 s, wrap-up 25 s;
		// c7 talk 300 s, wrap-up 30 s; ready until AsOf.
		ev("boris", -45*time.Minute, StateReady, ""),
		ev("boris", c2+sec(10), StateOffered, "c2"),
		ev("boris", c2+sec(15), StateOnCall, "c2"),
		ev("boris", c2+sec(215), StateWrapUp, "c2"),
		ev("boris", c2+sec(240), StateReady, ""),
		ev("boris", c7+sec(35), StateOffered, "c7"),
		ev("boris", c7+sec(40), StateOnCall, "c7"),
		ev("boris", c7+sec(340), StateWrapUp, "c7"),
		ev("boris", c7+sec(370), StateReady, ""),
		// vera: before the interval only (the lookback): not reported.
		ev("vera", -30*time.Hour, StateReady, ""),
		ev("vera", -30*time.Hour+sec(1), StateOnCall, "c9"),
		ev("vera", -30*time.Hour+sec(20), StateSignedOut, ""),
	}
	cfg := Config{
		From:            time.Date(2026, 11, 24, 0, 0, 0, 0, berlin),
		To:              time.Date(2026, 11, 26, 0, 0, 0, 0, berlin),
		Bucket:          Day,
		Location:        berlin,
		QueueThresholds: map[string]time.Duration{"billing": sec(45)},
		AsOf:            b.Add(40*time.Minute + sec(50)),
	}
	return cfg, calls, events
}

func TestComputeByHand(t *testing.T) {
	cfg, calls, events := fixture(t)
	r, err := Compute(cfg, calls, events)
	require.NoError(t, err)

	require.Len(t, r.Buckets, 2, "two Berlin days")
	require.Equal(t, b, r.Buckets[0].End.UTC(), "the 24th ends at midnight Berlin, 23:00 UTC")
	require.Equal(t, b, r.Buckets[1].Start.UTC())
	require.Equal(t, "Europe/Berlin", r.TimeZone)
	require.Equal(t, "1d", r.Bucket)
	require.Equal(t, 20.0, r.Thresholds.ServiceLevelS)
	require.Equal(t, map[string]float64{"billing": 45}, r.Thresholds.QueuesS)
	require.Equal(t, 5.0, r.Thresholds.ShortAbandonS)

	day1, day2, total := r.Buckets[0], r.Buckets[1], r.Total
	queue := func(bk Bucket, name string) QueueStats {
		for _, q := range bk.Queues {
			if q.Queue == name {
				return q
			}
		}
		t.Fatalf("no queue %s", name)
		return QueueStats{}
	}
	agent := func(bk Bucket, name string) AgentStats {
		for _, a := range bk.Agents {
			if a.Agent == name {
				return a
			}
		}
		t.Fatalf("no agent %s", name)
		return AgentStats{}
	}
	for _, bk := range []Bucket{day1, day2, total} {
		require.Equal(t, []string{"billing", "tech"}, []string{bk.Queues[0].Queue, bk.Queues[1].Queue}, "every bucket lists every queue")
		require.Len(t, bk.Agents, 2, "vera worked only before the interval")
	}

	// tech, 24th: answered 5 s and 15 s, abandoned 3 s (short), overflow 60 s.
	// Its handles: c1 230 s (talk 180, hold 30, wrap 20), c2 225 s (talk 200,
	// wrap 25: counted whole on the 24th though it ends after midnight).
	check(t, "tech day 1", queue(day1, "tech").Figures(), want{
		KeyOffered: 4, KeyAnswered: 2, KeyAbandoned: 1, KeyAbandonedShort: 1, KeyOverflow: 1, KeyLeftOther: 0, KeyWaiting: 0,
		KeyASA:             frac{20, 2},
		KeySLAnswered:      frac{2, 2},
		KeySLDefault:       frac{2, 2}, // the short abandon is left out
		KeySLWithAbandons:  frac{3, 3}, // the 3 s abandon is within T
		KeySLLeftQueue:     frac{3, 4}, // the overflow left at 60 s
		KeyAbandonRate:     frac{1, 4},
		KeyAbandonRateLong: frac{0, 3},
		KeyAvgAbandonTime:  frac{3, 1},
		KeyMaxQueuedTime:   60,
		KeyHandled:         2,
		KeyAHT:             frac{455, 2},
		KeyAvgTalk:         frac{380, 2},
		KeyAvgHold:         frac{30, 2},
		KeyAvgWrapUp:       frac{45, 2},
	})
	// tech, 25th: answered 25 s, abandoned 30 s, one waiting 50 s at AsOf.
	check(t, "tech day 2", queue(day2, "tech").Figures(), want{
		KeyOffered: 3, KeyAnswered: 1, KeyAbandoned: 1, KeyAbandonedShort: 0, KeyOverflow: 0, KeyWaiting: 1,
		KeyASA: frac{25, 1}, KeySLAnswered: frac{0, 1}, KeySLDefault: frac{0, 2}, KeySLWithAbandons: frac{0, 2},
		KeySLLeftQueue: frac{0, 3}, KeyAbandonRate: frac{1, 3}, KeyAbandonRateLong: frac{1, 3},
		KeyAvgAbandonTime: frac{30, 1}, KeyMaxQueuedTime: 50,
		KeyHandled: 1, KeyAHT: frac{240, 1}, KeyAvgTalk: frac{200, 1}, KeyAvgHold: frac{0, 1}, KeyAvgWrapUp: frac{40, 1},
	})
	// billing, 25th: answered at 40 s, within its own T of 45 s.
	check(t, "billing day 2", queue(day2, "billing").Figures(), want{
		KeyOffered: 1, KeyAnswered: 1, KeyAbandoned: 0, KeyASA: frac{40, 1},
		KeySLAnswered: frac{1, 1}, KeySLDefault: frac{1, 1}, KeySLWithAbandons: frac{1, 1}, KeySLLeftQueue: frac{1, 1},
		KeyAbandonRate: frac{0, 1}, KeyAvgAbandonTime: nil, KeyMaxQueuedTime: 40,
		KeyHandled: 1, KeyAHT: frac{330, 1},
	})
	check(t, "billing day 1", queue(day1, "billing").Figures(), want{
		KeyOffered: 0, KeyASA: frac{0, 0}, KeySLDefault: frac{0, 0}, KeyAbandonRate: frac{0, 0},
		KeyMaxQueuedTime: nil, KeyHandled: 0, KeyAHT: frac{0, 0},
	})
	// All queues over both days: answered 5, 15, 25 (tech, T 20) and 40
	// (billing, T 45); abandoned 3 (short) and 30; one overflow; one waiting.
	check(t, "all queues, whole interval", total.AllQueues.Figures(), want{
		KeyOffered: 8, KeyAnswered: 4, KeyAbandoned: 2, KeyAbandonedShort: 1, KeyOverflow: 1, KeyWaiting: 1,
		KeyASA:             frac{85, 4},
		KeySLAnswered:      frac{3, 4},
		KeySLDefault:       frac{3, 5},
		KeySLWithAbandons:  frac{4, 6},
		KeySLLeftQueue:     frac{4, 8},
		KeyAbandonRate:     frac{2, 8},
		KeyAbandonRateLong: frac{1, 7},
		KeyAvgAbandonTime:  frac{33, 2},
		KeyMaxQueuedTime:   60,
		KeyHandled:         4,
		KeyAHT:             frac{1025, 4},
		KeyAvgTalk:         frac{880, 4},
		KeyAvgHold:         frac{30, 4},
		KeyAvgWrapUp:       frac{115, 4},
	})
	check(t, "tech, whole interval", queue(total, "tech").Figures(), want{
		KeyOffered: 7, KeyASA: frac{45, 3}, KeySLAnswered: frac{2, 3}, KeySLDefault: frac{2, 4},
		KeySLWithAbandons: frac{3, 5}, KeySLLeftQueue: frac{3, 7}, KeyAbandonRate: frac{2, 7}, KeyAbandonRateLong: frac{1, 6},
	})
	check(t, "all queues, day 2", day2.AllQueues.Figures(), want{
		KeyOffered: 4, KeySLAnswered: frac{1, 2}, KeySLDefault: frac{1, 3}, KeySLLeftQueue: frac{1, 4}, KeyASA: frac{65, 2},
	})

	// anna: 24th 230 s handling, 1570 s available (ready 603 + 965,
	// offered 2), 1800 s not ready before midnight: one hour signed in. 25th:
	// 300 s not ready, 1260 s available, 240 s handling, until she signs out.
	check(t, "anna day 1", agent(day1, "anna").Figures(), want{
		KeyHandled: 1, KeyAHT: frac{230, 1}, KeyAvgTalk: frac{180, 1}, KeyAvgHold: frac{30, 1}, KeyAvgWrapUp: frac{20, 1},
		KeyOccupancy: frac{230, 1800}, KeyUtilization: frac{230, 3600},
	})
	check(t, "anna day 2", agent(day2, "anna").Figures(), want{
		KeyHandled: 1, KeyAHT: frac{240, 1}, KeyOccupancy: frac{240, 1500}, KeyUtilization: frac{240, 1800},
	})
	check(t, "anna", agent(total, "anna").Figures(), want{
		KeyHandled: 2, KeyAHT: frac{470, 2}, KeyAvgTalk: frac{380, 2}, KeyAvgHold: frac{30, 2}, KeyAvgWrapUp: frac{60, 2},
		KeyOccupancy: frac{470, 3300}, KeyUtilization: frac{470, 5400},
	})
	// boris: c2's handling splits at midnight (165 s, then 60 s), its handle
	// counts on the 24th; ready until AsOf on the 25th.
	check(t, "boris day 1", agent(day1, "boris").Figures(), want{
		KeyHandled: 1, KeyAHT: frac{225, 1}, KeyOccupancy: frac{165, 2700}, KeyUtilization: frac{165, 2700},
	})
	check(t, "boris day 2", agent(day2, "boris").Figures(), want{
		KeyHandled: 1, KeyAHT: frac{330, 1}, KeyOccupancy: frac{390, 2450}, KeyUtilization: frac{390, 2450},
	})
	check(t, "all agents", total.AllAgents.Figures(), want{
		KeyHandled: 4, KeyAHT: frac{1025, 4},
		KeyOccupancy: frac{470 + 555, 3300 + 5150}, KeyUtilization: frac{470 + 555, 5400 + 5150},
	})

	// Every figure names its KPI, variant and thresholds.
	sl := total.AllQueues.SLDefault
	require.Equal(t, "service_level", sl.Name)
	require.Equal(t, "b", sl.Variant)
	require.Nil(t, sl.ThresholdS, "tech and billing have different T")
	require.True(t, sl.ThresholdPerQueue)
	require.Equal(t, 5.0, *sl.ShortAbandonS)
	techSL := queue(total, "tech").SLAnswered
	require.Equal(t, "a", techSL.Variant)
	require.Equal(t, 20.0, *techSL.ThresholdS)
	require.False(t, techSL.ThresholdPerQueue)
	require.Equal(t, 45.0, *queue(total, "billing").SLWithAbandons.ThresholdS)
	require.Equal(t, "c", queue(total, "billing").SLWithAbandons.Variant)
	require.Equal(t, "d", queue(total, "billing").SLLeftQueue.Variant)
	require.Equal(t, "excl_short", total.AllQueues.AbandonRateLong.Variant)
	require.Equal(t, 5.0, *total.AllQueues.AbandonRateLong.ShortAbandonS)
}

func TestComputeJSONNamesVariants(t *testing.T) {
	cfg, calls, events := fixture(t)
	cfg.QueueThresholds = nil
	r, err := Compute(cfg, calls, events)
	require.NoError(t, err)
	raw, err := json.Marshal(r.Total.AllQueues.SLDefault)
	require.NoError(t, err)
	require.JSONEq(t, `{"key":"sl_default","name":"service_level","variant":"b","unit":"ratio","threshold_s":20,
		"short_abandon_s":5,"value":0.4,"numerator":2,"denominator":5}`, string(raw))
	raw, err = json.Marshal(r.Total.AllQueues.Offered)
	require.NoError(t, err)
	require.JSONEq(t, `{"key":"offered","name":"offered","variant":"entered_queue","unit":"calls","value":8}`, string(raw))
	raw, err = json.Marshal(r.Buckets[0].Queues[0].ASA) // billing had no call on the 24th
	require.NoError(t, err)
	require.JSONEq(t, `{"key":"asa","name":"asa","variant":"from_enqueue","unit":"seconds","value":null,"numerator":0,"denominator":0}`, string(raw))
}

func TestComputeQueueFilter(t *testing.T) {
	cfg, calls, events := fixture(t)
	cfg.Queues = []string{"billing", "sales"}
	r, err := Compute(cfg, calls, events)
	require.NoError(t, err)
	require.Len(t, r.Total.Queues, 2, "the queues asked for, even without calls")
	require.Equal(t, "billing", r.Total.Queues[0].Queue)
	require.Equal(t, "sales", r.Total.Queues[1].Queue)
	check(t, "filtered", r.Total.AllQueues.Figures(), want{KeyOffered: 1, KeyHandled: 1, KeyAHT: frac{330, 1}})
	for _, a := range r.Total.Agents {
		switch a.Agent {
		case "anna":
			check(t, "anna", a.Figures(), want{KeyHandled: 0, KeyOccupancy: frac{470, 3300}})
		case "boris":
			check(t, "boris", a.Figures(), want{KeyHandled: 1, KeyAHT: frac{330, 1}, KeyOccupancy: frac{555, 5150}})
		}
	}
}

func TestComputeShortAbandonConfigurable(t *testing.T) {
	cfg, calls, events := fixture(t)
	cfg.ShortAbandon = -1 // none is short
	cfg.Threshold = sec(30)
	r, err := Compute(cfg, calls, events)
	require.NoError(t, err)
	tech := r.Total.Queues[1]
	// T 30 s: answered 5, 15, 25 within; 30 s abandon within too.
	check(t, "tech", tech.Figures(), want{
		KeyAbandonedShort: 0, KeySLAnswered: frac{3, 3}, KeySLDefault: frac{3, 5}, KeySLWithAbandons: frac{5, 5},
		KeySLLeftQueue: frac{5, 7}, KeyAbandonRateLong: frac{2, 7},
	})
	require.Equal(t, 0.0, *tech.SLDefault.ShortAbandonS)
	require.Equal(t, 30.0, *tech.SLDefault.ThresholdS)
}

func TestBuckets(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	india, err := time.LoadLocation("Asia/Kolkata")
	require.NoError(t, err)
	starts := func(cfg Config) []string {
		r, err := Compute(cfg, nil, nil)
		require.NoError(t, err)
		var out []string
		for _, bk := range r.Buckets {
			out = append(out, bk.Start.Format("01-02 15:04 -0700")+"/"+bk.End.Sub(bk.Start).String())
		}
		return out
	}
	// The day clocks go back in Berlin lasts 25 hours.
	require.Equal(t, []string{"10-24 00:00 +0200/24h0m0s", "10-25 00:00 +0200/25h0m0s", "10-26 00:00 +0100/24h0m0s"},
		starts(Config{From: time.Date(2026, 10, 24, 0, 0, 0, 0, berlin), To: time.Date(2026, 10, 27, 0, 0, 0, 0, berlin),
			Bucket: Day, Location: berlin}))
	// Hours in Kolkata (UTC+5:30) begin on the local hour; an unaligned
	// start gives a short first bucket.
	require.Equal(t, []string{"11-24 10:20 +0530/40m0s", "11-24 11:00 +0530/1h0m0s", "11-24 12:00 +0530/30m0s"},
		starts(Config{From: time.Date(2026, 11, 24, 10, 20, 0, 0, india), To: time.Date(2026, 11, 24, 12, 30, 0, 0, india),
			Bucket: Hour, Location: india}))
	require.Equal(t, []string{"11-24 10:00 +0530/15m0s", "11-24 10:15 +0530/15m0s"},
		starts(Config{From: time.Date(2026, 11, 24, 10, 0, 0, 0, india), To: time.Date(2026, 11, 24, 10, 30, 0, 0, india),
			Bucket: Minutes15, Location: india}))
	require.Equal(t, []string{"11-24 10:00 +0000/2h0m0s"},
		starts(Config{From: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}))

	_, err = Compute(Config{From: b, To: b.Add(200 * 24 * time.Hour), Bucket: Minutes15}, nil, nil)
	require.True(t, errors.Is(err, ErrConfig), "too many buckets: %v", err)
	_, err = Compute(Config{From: b, To: b}, nil, nil)
	require.ErrorIs(t, err, ErrConfig)

	for s, want := range map[string]BucketSize{"": Whole, "15m": Minutes15, "1h": Hour, "1d": Day} {
		got, err := ParseBucketSize(s)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err = ParseBucketSize("1w")
	require.ErrorIs(t, err, ErrConfig)
}

func TestComputeIsDeterministic(t *testing.T) {
	cfg, calls, events := fixture(t)
	r1, err := Compute(cfg, calls, events)
	require.NoError(t, err)
	// Reversed input gives the same report.
	rc := append([]Call(nil), calls...)
	re := append([]AgentEvent(nil), events...)
	for i, j := 0, len(rc)-1; i < j; i, j = i+1, j-1 {
		rc[i], rc[j] = rc[j], rc[i]
	}
	for i, j := 0, len(re)-1; i < j; i, j = i+1, j-1 {
		re[i], re[j] = re[j], re[i]
	}
	r2, err := Compute(cfg, rc, re)
	require.NoError(t, err)
	j1, _ := json.Marshal(r1)
	j2, _ := json.Marshal(r2)
	require.JSONEq(t, string(j1), string(j2))
}

func TestEWT(t *testing.T) {
	require.Equal(t, 3*time.Minute, EWT(3, 2*time.Minute, 2))
	require.Equal(t, 6*time.Minute, EWT(3, 2*time.Minute, 0), "at least one agent")
	require.Equal(t, time.Duration(0), EWT(0, time.Minute, 1))
	require.Equal(t, time.Duration(0), EWT(2, -time.Minute, 1))
}

func TestWriteCSV(t *testing.T) {
	cfg, calls, events := fixture(t)
	r, err := Compute(cfg, calls, events)
	require.NoError(t, err)
	var buf strings.Builder
	require.NoError(t, WriteCSV(&buf, r))
	rows, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	require.NoError(t, err)
	header := rows[0]
	col := func(prefix string) int {
		for i, h := range header {
			if h == prefix || strings.HasPrefix(h, prefix+" [") {
				return i
			}
		}
		t.Fatalf("no column %s in %q", prefix, header)
		return -1
	}
	require.Equal(t, []string{"scope", "bucket_start", "bucket_end", "kind", "name", "sl_threshold_s", "short_abandon_s"}, header[:7])
	require.Equal(t, "sl_default [service_level b; T=per queue (sl_threshold_s); short<5s; ratio]", header[col(KeySLDefault)])
	require.Equal(t, "sl_answered [service_level a; T=per queue (sl_threshold_s); ratio]", header[col(KeySLAnswered)])
	require.Equal(t, "abandon_rate_long [abandon_rate excl_short; short<5s; ratio]", header[col(KeyAbandonRateLong)])
	require.Equal(t, "occupancy [occupancy handling_div_available; ratio]", header[col(KeyOccupancy)])
	require.Equal(t, "offered [offered entered_queue; calls]", header[col(KeyOffered)])
	// 2 buckets and the interval, each: 2 queues, all queues, 2 agents, all agents.
	require.Len(t, rows, 1+3*6)
	find := func(scope, start, kind, name string) []string {
		for _, r := range rows[1:] {
			if r[0] == scope && r[1] == start && r[3] == kind && r[4] == name {
				return r
			}
		}
		t.Fatalf("no row %s %s %s %s", scope, start, kind, name)
		return nil
	}
	tech2 := find(ScopeBucket, "2026-11-25T00:00:00+01:00", RowQueue, "tech")
	require.Equal(t, "2026-11-26T00:00:00+01:00", tech2[2])
	require.Equal(t, "20", tech2[5])
	require.Equal(t, "5", tech2[6])
	require.Equal(t, "3", tech2[col(KeyOffered)])
	require.Equal(t, "0", tech2[col(KeySLDefault)])
	require.Equal(t, "0", tech2[col(KeySLDefault)+1], "numerator")
	require.Equal(t, "2", tech2[col(KeySLDefault)+2], "denominator")
	require.Equal(t, "", tech2[col(KeyOccupancy)], "no occupancy for a queue")
	all := find(ScopeInterval, "2026-11-24T00:00:00+01:00", RowAllQueues, "")
	require.Equal(t, "per_queue", all[5])
	require.Equal(t, "0.6", all[col(KeySLDefault)])
	require.Equal(t, "21.25", all[col(KeyASA)])
	billing1 := find(ScopeBucket, "2026-11-24T00:00:00+01:00", RowQueue, "billing")
	require.Equal(t, "45", billing1[5])
	require.Equal(t, "", billing1[col(KeyASA)], "0 ÷ 0 has no value")
	anna := find(ScopeInterval, "2026-11-24T00:00:00+01:00", RowAgent, "anna")
	require.Equal(t, "2", anna[col(KeyHandled)])
	require.Equal(t, "235", anna[col(KeyAHT)])
	require.Equal(t, "", anna[col(KeyASA)])
	require.Equal(t, "470", anna[col(KeyOccupancy)+1])
	require.Equal(t, "3300", anna[col(KeyOccupancy)+2])
}

func TestComputeEventsTo(t *testing.T) {
	cfg, calls, events := fixture(t)
	// boris's events end at c7's wrap-up (B+30m+340s): he stays in it until
	// EventsTo, not until AsOf.
	var cut []AgentEvent
	for _, e := range events {
		if e.Agent != "boris" || e.At.Before(b.Add(30*time.Minute+sec(370))) {
			cut = append(cut, e)
		}
	}
	cfg.EventsTo = b.Add(30*time.Minute + sec(350))
	r, err := Compute(cfg, calls, cut)
	require.NoError(t, err)
	for _, a := range r.Buckets[1].Agents {
		if a.Agent == "boris" {
			check(t, "boris", a.Figures(), want{KeyAHT: frac{310, 1}, KeyUtilization: frac{370, 2150}})
		}
	}
}
