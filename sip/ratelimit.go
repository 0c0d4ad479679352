package sip

import (
	"net/netip"
	"sync"
	"time"
)

// rateLimiter is a token bucket per source IP for new INVITEs. Idle buckets
// are swept lazily so a flood of spoofed sources cannot grow it forever.
type rateLimiter struct {
	rate  float64 // tokens per second
	burst float64

	mu        sync.Mutex
	buckets   map[netip.Addr]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the table; past it the oldest-idle entries are dropped on sweep.
const maxBuckets = 100_000

func newRateLimiter(rate float64, burst int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), buckets: map[netip.Addr]*bucket{}}
}

// allow takes one token for ip at now and reports whether one was available.
func (r *rateLimiter) allow(ip netip.Addr, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweep(now)
	b, ok := r.buckets[ip]
	if !ok {
		if len(r.buckets) >= maxBuckets {
			return false
		}
		b = &bucket{tokens: r.burst, last: now}
		r.buckets[ip] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(r.burst, b.tokens+el*r.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep drops buckets that have refilled completely (they hold no state). Lock held on entry.
func (r *rateLimiter) sweep(now time.Time) {
	if now.Sub(r.lastSweep) < 10*time.Second {
		return
	}
	r.lastSweep = now
	full := time.Duration(r.burst / r.rate * float64(time.Second))
	for ip, b := range r.buckets {
		if now.Sub(b.last) > full {
			delete(r.buckets, ip)
		}
	}
}
