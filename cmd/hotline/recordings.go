package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hotline/hotline/internal/config"
	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/metrics"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/switchboard"
	"github.com/hotline/hotline/recordings"
	"github.com/hotline/hotline/recordings/sealed"
)

// recordingsDir is where the node keeps its recordings.
func recordingsDir(cfg config.Config) string {
	if cfg.Recordings.Dir != "" {
		return cfg.Recordings.Dir
	}
	return filepath.Join(cfg.Store.DataDir, "recordings")
}

// startRecordings starts the recorder and finishes the recordings a
// previous process left unfinished (a crash), before any call arrives.
func startRecordings(ctx context.Context, cfg config.Config, st store.Store, w *store.Writer, m *metrics.Recordings,
	create func(string) (recordings.File, error), log *slog.Logger) (*recordings.Service, error) {
	opt := recordings.Options{
		Dir: recordingsDir(cfg), Saver: w, Metrics: m, Logger: log.With("component", "recordings"), Create: create,
	}
	if cfg.Recordings.EncryptTo != "" {
		r, err := sealed.ParseRecipient(cfg.Recordings.EncryptTo)
		if err != nil {
			return nil, fmt.Errorf("recordings.encrypt_to: %w", err)
		}
		opt.Recipient = r
	}
	if cfg.Recordings.IdentityFile != "" {
		ids, err := sealed.LoadIdentities(cfg.Recordings.IdentityFile)
		if err != nil {
			return nil, fmt.Errorf("recordings.identity_file: %w", err)
		}
		opt.Identities = ids
	}
	svc, err := recordings.New(opt)
	if err != nil {
		return nil, err
	}
	n, err := svc.Recover(ctx, st)
	if err != nil {
		_ = svc.Close()
		return nil, err
	}
	if n > 0 {
		log.Warn("recordings left by a previous process were recovered", "recordings", n)
	}
	return svc, nil
}

// recordPolicy is each queue's record and retention setting (validated
// with the configuration).
func recordPolicy(cfg config.Config) switchboard.RecordPolicy {
	p := switchboard.RecordPolicy{}
	for _, q := range cfg.ACD.Queues {
		mode, _ := recordings.ParseMode(q.Record)
		keep, _ := recordings.ParseRetention(q.Retention)
		p[q.Name] = switchboard.QueueRecording{Mode: mode, Retention: keep}
	}
	return p
}

// pciControl is the API's CallControl over the desk: the PCI pause of a
// live call's recording.
type pciControl struct{ desk *switchboard.Desk }

func (c pciControl) PauseRecording(ctx context.Context, callID, by string, supervisor, paused bool) error {
	err := c.desk.PauseRecording(ctx, callID, by, supervisor, paused)
	switch {
	case errors.Is(err, switchboard.ErrNoCall):
		return fmt.Errorf("%w: %w", httpapi.ErrNoLiveCall, err)
	case errors.Is(err, switchboard.ErrNotYours):
		return fmt.Errorf("%w: %w", httpapi.ErrNotYourCall, err)
	}
	return err
}

// noCalls is the CallControl of a node without queues: no call is ever
// with an agent.
type noCalls struct{}

func (noCalls) PauseRecording(context.Context, string, string, bool, bool) error {
	return httpapi.ErrNoLiveCall
}

const recordingUsage = `usage: hotline recording decrypt --identity FILE IN.wav.age [OUT.wav]

  decrypt   write the WAV inside an encrypted recording (recordings.encrypt_to) to OUT.wav,
            or to standard output; FILE is the age identity file (age-keygen) of the recipient
`

// recordingCmd works on recording files: hotline recording decrypt.
func recordingCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "decrypt" {
		fmt.Fprint(stderr, recordingUsage)
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return usageError{errors.New("recording: want decrypt")}
	}
	fl := flag.NewFlagSet("recording decrypt", flag.ContinueOnError)
	fl.SetOutput(stderr)
	identity := fl.String("identity", "", "the age identity `FILE` that decrypts the recording")
	pos, err := parseInterleaved(fl, args[1:])
	if err != nil {
		return usageError{err}
	}
	if *identity == "" || len(pos) < 1 || len(pos) > 2 {
		fmt.Fprint(stderr, recordingUsage)
		return usageError{errors.New("recording decrypt: want --identity FILE IN [OUT]")}
	}
	ids, err := sealed.LoadIdentities(*identity)
	if err != nil {
		return err
	}
	in, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	wav, err := recordings.OpenSealed(in, st.Size(), ids...)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	out := stdout
	if len(pos) == 2 {
		f, err := os.OpenFile(pos[1], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	if _, err := io.Copy(out, wav); err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	return nil
}
