package sipptest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Stats is the last row of a SIPp -trace_stat file (cumulative counters).
type Stats struct {
	// Successful is SuccessfulCall(C).
	Successful int
	// Failed is FailedCall(C).
	Failed int
	// Current is CurrentCall: calls still up when the row was written.
	Current int
	// Retransmissions is Retransmissions(C), SIP retransmissions by SIPp.
	Retransmissions int
}

// statColumns maps the CSV column names to the Stats fields they fill.
var statColumns = []struct {
	name  string
	field func(*Stats) *int
}{
	{"SuccessfulCall(C)", func(s *Stats) *int { return &s.Successful }},
	{"FailedCall(C)", func(s *Stats) *int { return &s.Failed }},
	{"CurrentCall", func(s *Stats) *int { return &s.Current }},
	{"Retransmissions(C)", func(s *Stats) *int { return &s.Retransmissions }},
}

// ParseStats reads a SIPp statistics CSV (';'-separated, a header row, one row
// per dump) and returns the counters of its last complete row.
func ParseStats(r io.Reader) (Stats, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var header, last []string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		fields := strings.Split(line, ";")
		if header == nil {
			header = fields
			continue
		}
		if len(fields) >= len(header)-1 { // SIPp ends rows with ';'
			last = fields
		}
	}
	if err := sc.Err(); err != nil {
		return Stats{}, fmt.Errorf("sipp stats: %w", err)
	}
	if header == nil {
		return Stats{}, errors.New("sipp stats: empty file")
	}
	if last == nil {
		return Stats{}, errors.New("sipp stats: no data row")
	}
	var st Stats
	for _, col := range statColumns {
		i := indexOf(header, col.name)
		if i < 0 {
			return Stats{}, fmt.Errorf("sipp stats: no column %s", col.name)
		}
		if i >= len(last) {
			return Stats{}, fmt.Errorf("sipp stats: row too short for column %s", col.name)
		}
		v, err := strconv.Atoi(strings.TrimSpace(last[i]))
		if err != nil || v < 0 {
			return Stats{}, fmt.Errorf("sipp stats: column %s: bad count %q", col.name, last[i])
		}
		*col.field(&st) = v
	}
	return st, nil
}

// indexOf returns the index of s in list, or -1.
func indexOf(list []string, s string) int {
	for i, v := range list {
		if strings.TrimSpace(v) == s {
			return i
		}
	}
	return -1
}
