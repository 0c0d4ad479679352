package sip

import (
	"net/netip"
	"sync"
	"time"
)

// sourceKey is what per-source limits count by: the IPv4 address, or the
// IPv6 /64 (one subscriber's network: counting by /128 would give one
// attacker 2^64 sources).
func sourceKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// logEvery is how often one source's refusals are logged (the rest are counted).
const logEvery = 10 * time.Second

// maxThrottled bounds the table of recently logged sources.
const maxThrottled = 4096

// logThrottle lets one log line per source through per interval and counts
// the lines it held back, so a flood names its source without flooding the log.
type logThrottle struct {
	every time.Duration

	mu        sync.Mutex
	last      map[netip.Prefix]throttled
	lastSweep time.Time
}

type throttled struct {
	at         time.Time
	suppressed int
}

func newLogThrottle(every time.Duration) *logThrottle {
	return &logThrottle{every: every, last: map[netip.Prefix]throttled{}}
}

// allow reports whether to log for key now and, if so, how many lines were
// held back for it since the last one.
func (t *logThrottle) allow(key netip.Prefix, now time.Time) (ok bool, suppressed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.lastSweep) >= t.every || len(t.last) >= maxThrottled {
		t.lastSweep = now
		for k, e := range t.last {
			if age := now.Sub(e.at); age >= t.every && e.suppressed == 0 || age >= 6*t.every {
				delete(t.last, k)
			}
		}
	}
	e, seen := t.last[key]
	if seen && now.Sub(e.at) < t.every {
		e.suppressed++
		t.last[key] = e
		return false, 0
	}
	if !seen && len(t.last) >= maxThrottled {
		return false, 0 // a spread-out flood: the metric still counts it
	}
	t.last[key] = throttled{at: now}
	return true, e.suppressed
}

// unconfirmedTable counts, per source, the calls admitted and not yet
// confirmed by ACK.
type unconfirmedTable struct {
	max int

	mu sync.Mutex
	n  map[netip.Prefix]int
}

func newUnconfirmedTable(max int) *unconfirmedTable {
	return &unconfirmedTable{max: max, n: map[netip.Prefix]int{}}
}

// acquire counts one more unconfirmed call for key unless the cap is
// reached; it returns the count before and whether it was taken.
func (u *unconfirmedTable) acquire(key netip.Prefix) (held int, ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	held = u.n[key]
	if held >= u.max {
		return held, false
	}
	u.n[key] = held + 1
	return held, true
}

// release ends one unconfirmed call for key (confirmed or gone).
func (u *unconfirmedTable) release(key netip.Prefix) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n[key] <= 1 {
		delete(u.n, key)
		return
	}
	u.n[key]--
}
