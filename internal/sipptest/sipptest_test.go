package sipptest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startUAS starts SIPp's echoing UAS for one test and stops it afterwards.
func startUAS(t *testing.T) *UAS {
	t.Helper()
	uas, err := StartUAS(t.Context(), UASOptions{})
	require.NoError(t, err, "SIPp is needed: apt-get install -y sip-tester (run as root)")
	t.Cleanup(func() { require.NoError(t, uas.Close()) })
	return uas
}

func TestIVRCallerCallsSIPpUAS(t *testing.T) {
	uas := startUAS(t)
	res, err := Run(t.Context(), Options{
		Scenario: filepath.Join("testdata", "ivr_caller.xml"),
		Target:   uas.Addr(),
		Calls:    1,
		Keys:     map[string]string{"hold": "1000"},
		Timeout:  30 * time.Second,
	})
	require.NoError(t, err)
	require.NoError(t, res.Err())
	require.Equal(t, 1, res.Successful)
	require.Zero(t, res.Failed)
	require.Empty(t, uas.ErrorLog(), "the UAS saw something unexpected")
}

func TestLoadCallerRunsConcurrentCalls(t *testing.T) {
	uas := startUAS(t)
	res, err := Run(t.Context(), Options{
		Scenario:    filepath.Join("testdata", "load_caller.xml"),
		Target:      uas.Addr(),
		Calls:       6,
		Rate:        20,
		Concurrency: 6,
		Keys:        map[string]string{"hold": "500"},
		Timeout:     30 * time.Second,
	})
	require.NoError(t, err)
	require.NoError(t, res.Err())
	require.Equal(t, 6, res.Successful)
}

func TestRunCountsFailedCalls(t *testing.T) {
	port, err := freePort("127.0.0.1")
	require.NoError(t, err)
	res, err := Run(t.Context(), Options{
		Scenario:    filepath.Join("testdata", "ivr_caller.xml"),
		Target:      "127.0.0.1:" + itoa(port), // nobody answers
		Calls:       1,
		Keys:        map[string]string{"hold": "0"},
		RecvTimeout: time.Second,
		Timeout:     30 * time.Second,
	})
	require.NoError(t, err, "a failed call is not a failed run")
	require.Equal(t, 1, res.Failed)
	require.Zero(t, res.Successful)
	require.ErrorContains(t, res.Err(), "0 of 1 calls succeeded")
}

func TestRunNamesAMissingKey(t *testing.T) {
	uas := startUAS(t)
	_, err := Run(t.Context(), Options{
		Scenario: filepath.Join("testdata", "ivr_caller.xml"),
		Target:   uas.Addr(),
		Timeout:  30 * time.Second,
	})
	require.ErrorContains(t, err, "hold")
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	uas := startUAS(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	_, err := Run(ctx, Options{
		Scenario: filepath.Join("testdata", "ivr_caller.xml"),
		Target:   uas.Addr(),
		Keys:     map[string]string{"hold": "600000"},
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestRunWithoutSipp(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Run(t.Context(), Options{Scenario: "testdata/ivr_caller.xml", Target: "127.0.0.1:5060"})
	require.ErrorIs(t, err, ErrNotInstalled)
	require.ErrorContains(t, err, "apt-get install -y sip-tester")
	_, err = StartUAS(t.Context(), UASOptions{})
	require.ErrorIs(t, err, ErrNotInstalled)
}

func TestRunRejectsBadOptions(t *testing.T) {
	_, err := Run(t.Context(), Options{Scenario: "testdata/ivr_caller.xml"})
	require.ErrorContains(t, err, "Target")
	_, err = Run(t.Context(), Options{Scenario: "testdata/nope.xml", Target: "127.0.0.1:5060"})
	require.ErrorContains(t, err, "nope.xml")
	_, err = Run(t.Context(), Options{Scenario: "testdata/ivr_caller.xml", Target: "127.0.0.1:5060",
		Keys: map[string]string{"bad key": "1"}})
	require.ErrorContains(t, err, "bad key")
}

func TestUASCloseIsIdempotent(t *testing.T) {
	uas, err := StartUAS(t.Context(), UASOptions{})
	require.NoError(t, err)
	require.NotZero(t, uas.PID())
	require.NotZero(t, uas.MediaPort())
	require.NoError(t, uas.Close())
	require.NoError(t, uas.Close())
}
