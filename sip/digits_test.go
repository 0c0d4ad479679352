package sip

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
)

func TestCallDigitsOnePerPressFromAnySource(t *testing.T) {
	c := &Call{log: slog.New(slog.DiscardHandler)}
	t0 := time.Unix(1000, 0)
	press := func(key byte, src media.DigitSource, after time.Duration) {
		c.digit(media.Digit{Key: key, Source: src, At: t0.Add(after)})
	}
	// Before anyone takes them, presses wait.
	press('1', media.SourceRFC4733, 0)
	press('1', media.SourceINFO, 50*time.Millisecond) // the same press, told twice
	press('2', media.SourceRFC4733, 300*time.Millisecond)

	var got []string
	c.OnDigit(func(d media.Digit) { got = append(got, string(d.Key)+" "+string(d.Source)) })
	require.Equal(t, []string{"1 rfc4733", "2 rfc4733"}, got, "waiting presses handed over in order, echoes dropped")

	press('2', media.SourceINFO, 600*time.Millisecond)    // 300 ms later: a new press
	press('3', media.SourceINFO, 610*time.Millisecond)    // another key: a new press
	press('3', media.SourceInband, 650*time.Millisecond)  // its in-band echo
	press('3', media.SourceInband, 1000*time.Millisecond) // pressed again
	require.Equal(t, []string{"1 rfc4733", "2 rfc4733", "2 info", "3 info", "3 inband"}, got)

	c.OnDigit(nil)
	press('4', media.SourceRFC4733, 2*time.Second)
	require.Len(t, got, 5, "nothing is handed over after OnDigit(nil)")
	for range maxPendingDigits + 5 {
		press('5', media.SourceRFC4733, 3*time.Second)
	}
	require.Len(t, c.pending, maxPendingDigits, "presses nobody takes are bounded")
}
