package sip

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline/hotline/internal/baresiptest"
	"github.com/hotline/hotline/internal/media"
	"github.com/stretchr/testify/require"
)

// callerHz is the tone baresip sends; the server plays toneHz.
const callerHz = 1200.0

// toneCounter counts received frames carrying freq.
type toneCounter struct {
	freq float64
	n    atomic.Int64
}

func (c *toneCounter) WriteFrame(pcm []int16) error {
	if media.Power(pcm, c.freq) > 0.01 {
		c.n.Add(1)
	}
	return nil
}

// baresip (a real phone, srtp.so, mediaenc=srtp-mand) calls over TLS a
// trunk that requires SRTP: the call is RTP/SAVP with SDES keys, baresip
// hears our tone (decoded by its sndfile dump) and we hear its tone.
func TestBaresipTLSSRTP(t *testing.T) {
	f, _ := startTLSServer(t, func(tr *TrunkConfig) { tr.SRTP = SRTPRequired })
	heard := &toneCounter{freq: callerHz}

	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	w, err := os.Create(in)
	require.NoError(t, err)
	require.NoError(t, media.WriteWAV(w, media.Tone([]float64{callerHz}, 5*time.Second, 0.5).Samples))
	require.NoError(t, w.Close())
	rec := filepath.Join(dir, "rec")
	require.NoError(t, os.Mkdir(rec, 0o700))

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	got := make(chan *Call, 1)
	go func() { // the test handler plays toneHz; we listen from the answer on
		defer close(got)
		select {
		case c := <-f.h.calls:
			c.Media().SetSink(heard)
			got <- c
		case <-ctx.Done():
		}
	}()
	res, err := baresiptest.Call(ctx, baresiptest.Options{
		Target:    "sip:100@" + f.srv.TLSAddr().String() + ";transport=tls",
		MediaEnc:  "srtp-mand",
		AudioIn:   in,
		RecordDir: rec,
		Hold:      3 * time.Second,
	})
	require.NoError(t, err, res.Log) // baresip missing fails here: .ci/deps installs it
	require.True(t, res.Established, res.Log)
	c := <-got
	require.NotNil(t, c, "no call reached the handler")
	require.True(t, c.Media().SRTP())
	require.Equal(t, "TLS", c.invite.Transport())
	waitDone(t, c.Done(), "call end")
	require.Greater(t, heard.n.Load(), int64(25), "we hear baresip's %v Hz through SRTP (half a second at least)", callerHz)

	dumps, err := filepath.Glob(filepath.Join(rec, "dump-*-dec.wav"))
	require.NoError(t, err)
	require.Len(t, dumps, 1, "sndfile's dump of what baresip heard; log:\n%s", res.Log)
	fd, err := os.Open(dumps[0])
	require.NoError(t, err)
	defer fd.Close()
	p, err := media.LoadWAV(dumps[0], fd)
	require.NoError(t, err)
	loud := 0
	for i := 0; i+media.FrameSamples <= len(p.Samples); i += media.FrameSamples {
		if media.Power(p.Samples[i:i+media.FrameSamples], toneHz) > 0.01 {
			loud++
		}
	}
	require.Greater(t, loud, 25, "baresip hears our %v Hz through SRTP", toneHz)
}
