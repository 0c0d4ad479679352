package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/baresiptest"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
)

// The warm transfer with a real SIP phone as the caller: baresip dials the
// support line, says 800 Hz the whole time and records what it hears.
// anna (1000 Hz) answers, consults boris (1400 Hz) and completes: boris
// hears the caller, anna does not any more, and the end of what baresip
// heard is boris, not anna. The call row says answered and names boris.
func TestBaresipCallerConsultCompletes(t *testing.T) {
	const sayHz, annaHz, borisHz = 800, 1000, 1400
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	boris := n.agent("boris")
	anna.SetTone(annaHz)
	boris.SetTone(borisHz)

	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	f, err := os.Create(in)
	require.NoError(t, err)
	require.NoError(t, media.WriteWAV(f, media.Tone([]float64{sayHz}, 60*time.Second, 0.3).Samples))
	require.NoError(t, f.Close())
	rec := filepath.Join(dir, "rec")
	require.NoError(t, os.Mkdir(rec, 0o700))

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	type result struct {
		res baresiptest.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := baresiptest.Call(ctx, baresiptest.Options{
			Target: n.uri("support"), Digits: "11#", DigitGap: 700 * time.Millisecond, Hold: 60 * time.Second,
			AudioIn: in, RecordDir: rec, Caller: "1001",
		})
		done <- result{res, err}
	}()
	t.Cleanup(func() { cancel(); <-done })

	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	id := ring.CallID
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: id}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	require.Eventually(t, func() bool { return anna.Heard(sayHz, 200*time.Millisecond) > 0.01 },
		10*time.Second, 50*time.Millisecond, "anna hears the caller")
	time.Sleep(time.Second) // baresip hears anna for a while

	require.NoError(t, anna.Send(ctx, softphone.Consult{CallID: id, Agent: "boris"}))
	require.Equal(t, softphone.ConsultRinging, waitMsg[softphone.Consultation](t, boris, softphone.TypeConsultation).Status)
	require.NoError(t, boris.Send(ctx, softphone.ConsultAccept{CallID: id}))
	require.Eventually(t, func() bool { return anna.Heard(borisHz, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "anna hears boris")
	hearsNoMore(t, boris, sayHz, "boris does not hear the caller during the consultation")

	require.NoError(t, anna.Send(ctx, softphone.ConsultComplete{CallID: id}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, boris, softphone.TypeCall).Status)
	require.Eventually(t, func() bool { return boris.Heard(sayHz, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "boris hears the caller")
	hearsNoMore(t, anna, sayHz, "anna no longer hears the caller")
	time.Sleep(1500 * time.Millisecond) // baresip hears boris
	require.NoError(t, boris.Send(ctx, softphone.Hangup{CallID: id}))

	var r result
	select {
	case r = <-done:
		done <- r // for the cleanup
	case <-ctx.Done():
		t.Fatal("baresip did not end the call")
	}
	require.NoError(t, r.err, r.res.Log)
	require.True(t, r.res.Established, r.res.Log)

	dumps, err := filepath.Glob(filepath.Join(rec, "dump-*-dec.wav"))
	require.NoError(t, err)
	require.Len(t, dumps, 1, "sndfile's dump of what baresip heard; log:\n%s", r.res.Log)
	fd, err := os.Open(dumps[0])
	require.NoError(t, err)
	defer fd.Close()
	heard, err := media.LoadWAV(dumps[0], fd)
	require.NoError(t, err)
	loud := func(samples []int16, hz float64) int {
		n := 0
		for i := 0; i+media.FrameSamples <= len(samples); i += media.FrameSamples {
			if media.Power(samples[i:i+media.FrameSamples], hz) > 0.01 {
				n++
			}
		}
		return n
	}
	last := heard.Samples[max(0, len(heard.Samples)-media.SampleRate):] // the last second
	require.Greater(t, loud(heard.Samples, annaHz), 25, "baresip heard anna before the transfer")
	require.Greater(t, loud(last, borisHz), 25, "at the end baresip hears boris")
	require.Zero(t, loud(last, annaHz), "…and no longer anna")

	d := n.waitEnded(r.res.CallID)
	require.Equal(t, "answered", d.Call.Outcome)
	require.Equal(t, "boris", d.Call.Agent)
}
