package main

import (
	"context"
	"math"
	"slices"
	"time"
)

// sample is one reading of the measured process, taken once a second.
type sample struct {
	At    time.Time
	Ticks uint64 // utime + stime, clock ticks
	STime uint64 // stime alone: CPU spent in the kernel, clock ticks
	Mem   procMem
	Live  int // calls up, as the live probe saw them (-1: unknown)
	// UACTicks is the SIPp caller's utime + stime (0 until it is found).
	UACTicks uint64
}

// probe reads the measured process once; the sampler calls it every second.
type probe struct {
	// PID is the process whose CPU and memory are read.
	PID int
	// Live counts the calls up now (-1 when it cannot tell).
	Live func(ctx context.Context) int
	// UAC finds the SIPp caller's pid, or 0 while it has not started.
	UAC func() int
}

// sampleEvery is the sampling period.
const sampleEvery = time.Second

// sampleLoop reads p now, closes first, then reads p every second until ctx
// ends, then once more, and returns the readings. Readings that fail (the
// process is gone) are left out.
func sampleLoop(ctx context.Context, p probe, first chan<- struct{}) []sample {
	var out []sample
	uacPID := 0
	var uacTicks uint64
	read := func(liveCtx context.Context) {
		st, err := readProcStat(p.PID)
		if err != nil {
			return
		}
		mem, err := readProcMem(p.PID)
		if err != nil {
			return
		}
		if uacPID == 0 && p.UAC != nil {
			uacPID = p.UAC()
		}
		if uacPID != 0 {
			if us, err := readProcStat(uacPID); err == nil {
				uacTicks = us.CPUTicks()
			}
		}
		live := -1
		if p.Live != nil {
			live = p.Live(liveCtx)
		}
		out = append(out, sample{At: time.Now(), Ticks: st.CPUTicks(), STime: st.STime, Mem: mem, Live: live, UACTicks: uacTicks})
	}
	read(ctx)
	close(first)
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			read(ctx)
		case <-ctx.Done():
			// The last reading must not be cut short by the ended ctx.
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			read(last)
			cancel()
			return out
		}
	}
}

// steadyShare is the share of the target calls that must be up for a second
// to count as steady state.
const steadyShare = 0.95

// usage summarises one process's readings over a load run.
type usage struct {
	// MeanCPU is the CPU used over the whole run, in cores (1 = one core).
	MeanCPU float64
	// SystemShare is the share of MeanCPU spent in the kernel (system calls:
	// UDP sends and receives, timers).
	SystemShare float64
	// SteadyCPU is the median CPU of the steady-state seconds, in cores.
	SteadyCPU float64
	// SteadySeconds is how many one-second intervals were steady.
	SteadySeconds int
	// SteadyLive is the median number of calls up during steady state.
	SteadyLive int
	// MaxLive is the most calls seen up at once.
	MaxLive int
	// BaseRSS is the resident memory before the first call, KiB.
	BaseRSS uint64
	// SteadyRSS is the median resident memory during steady state, KiB.
	SteadyRSS uint64
	// PeakRSS is the process's highest resident memory (VmHWM), KiB.
	PeakRSS uint64
	// UACMeanCPU is the SIPp caller's CPU over its life, in cores.
	UACMeanCPU float64
	// Duration is the wall time the readings span.
	Duration time.Duration
}

// PerCallKiB is the resident memory each live call adds at steady state
// (NaN when there was no steady state).
func (u usage) PerCallKiB() float64 {
	if u.SteadyLive <= 0 || u.SteadySeconds == 0 {
		return math.NaN()
	}
	return (float64(u.SteadyRSS) - float64(u.BaseRSS)) / float64(u.SteadyLive)
}

// summarize turns the readings of a run whose target was target calls up at
// once into a usage. A second is steady when at least 95 % of the target
// calls were up at both of its ends.
func summarize(samples []sample, target int) usage {
	var u usage
	if len(samples) == 0 {
		return u
	}
	first, last := samples[0], samples[len(samples)-1]
	u.BaseRSS = first.Mem.RSS
	u.Duration = last.At.Sub(first.At)
	if sec := u.Duration.Seconds(); sec > 0 {
		u.MeanCPU = float64(last.Ticks-first.Ticks) / clockTicks / sec
	}
	if last.Ticks > first.Ticks && last.STime >= first.STime {
		u.SystemShare = float64(last.STime-first.STime) / float64(last.Ticks-first.Ticks)
	}
	threshold := int(math.Ceil(steadyShare * float64(target)))
	var cpus []float64
	var rss []uint64
	var live []int
	var uacLast sample
	for i, s := range samples {
		u.PeakRSS = max(u.PeakRSS, s.Mem.Peak, s.Mem.RSS)
		u.MaxLive = max(u.MaxLive, s.Live)
		if s.UACTicks > 0 {
			uacLast = s
		}
		if i == 0 {
			continue
		}
		prev := samples[i-1]
		dt := s.At.Sub(prev.At).Seconds()
		if dt <= 0 || prev.Live < threshold || s.Live < threshold || s.Ticks < prev.Ticks {
			continue
		}
		cpus = append(cpus, float64(s.Ticks-prev.Ticks)/clockTicks/dt)
		rss = append(rss, s.Mem.RSS)
		live = append(live, s.Live)
	}
	if sec := uacLast.At.Sub(first.At).Seconds(); sec > 0 {
		u.UACMeanCPU = float64(uacLast.UACTicks) / clockTicks / sec
	}
	u.SteadySeconds = len(cpus)
	if len(cpus) > 0 {
		u.SteadyCPU = median(cpus)
		u.SteadyRSS = median(rss)
		u.SteadyLive = median(live)
	}
	return u
}

// median returns the middle value of xs, or the mean of the two middle
// values for an even count (rounded down for integers); xs must not be empty.
func median[T int | uint64 | float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	a, b := s[len(s)/2-1], s[len(s)/2]
	return a + (b-a)/2
}
