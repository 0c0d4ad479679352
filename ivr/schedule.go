package ivr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// schedule is an hours node compiled: weekly open spans in a time zone,
// minus holiday dates.
type schedule struct {
	loc      *time.Location
	spans    []span
	holidays map[string]bool // "2006-01-02" in loc
}

// span is one schedule entry: a set of weekdays and [from, to) in minutes.
type span struct {
	days     [7]bool // indexed by time.Weekday
	from, to int
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// open reports whether the schedule is open at t.
func (s *schedule) open(t time.Time) bool {
	local := t.In(s.loc)
	if s.holidays[local.Format(time.DateOnly)] {
		return false
	}
	minute := local.Hour()*60 + local.Minute()
	for _, sp := range s.spans {
		if sp.days[local.Weekday()] && minute >= sp.from && minute < sp.to {
			return true
		}
	}
	return false
}

// parseSpan parses "mon-fri 09:00-18:00", "sat,sun 10:00-14:00" or
// "daily 00:00-24:00".
func parseSpan(s string) (span, error) {
	var sp span
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return sp, fmt.Errorf("schedule entry %q: want \"DAYS HH:MM-HH:MM\", e.g. \"mon-fri 09:00-18:00\"", s)
	}
	days, err := parseDays(fields[0])
	if err != nil {
		return sp, fmt.Errorf("schedule entry %q: %w", s, err)
	}
	sp.days = days
	from, to, ok := strings.Cut(fields[1], "-")
	if !ok {
		return sp, fmt.Errorf("schedule entry %q: time range must be HH:MM-HH:MM", s)
	}
	if sp.from, err = parseClock(from); err != nil {
		return sp, fmt.Errorf("schedule entry %q: %w", s, err)
	}
	if sp.to, err = parseClock(to); err != nil {
		return sp, fmt.Errorf("schedule entry %q: %w", s, err)
	}
	if sp.to <= sp.from {
		return sp, fmt.Errorf("schedule entry %q: closing time must be after opening time (split a span across midnight in two)", s)
	}
	return sp, nil
}

// parseDays parses "daily", "mon", "mon-fri", "fri-mon" and comma lists of those.
func parseDays(s string) ([7]bool, error) {
	var days [7]bool
	if s == "daily" {
		for i := range days {
			days[i] = true
		}
		return days, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		first, last, isRange := strings.Cut(part, "-")
		a, ok := dayNames[first]
		if !ok {
			return days, fmt.Errorf("unknown day %q (use mon tue wed thu fri sat sun or daily)", first)
		}
		b := a
		if isRange {
			if b, ok = dayNames[last]; !ok {
				return days, fmt.Errorf("unknown day %q (use mon tue wed thu fri sat sun or daily)", last)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			days[d] = true
			if d == b {
				break
			}
		}
	}
	return days, nil
}

// parseClock parses "HH:MM" (00:00 to 24:00) into minutes after midnight.
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || len(mm) != 2 || h < 0 || m < 0 || m > 59 || h*60+m > 24*60 {
		return 0, fmt.Errorf("bad time %q (want HH:MM from 00:00 to 24:00)", s)
	}
	return h*60 + m, nil
}
