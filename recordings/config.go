package recordings

import (
	"errors"
	"fmt"
	"time"

	"github.com/hotline/hotline/recordings/sealed"
)

// Config is the recordings part of the YAML configuration. What each queue
// records, and how long it keeps it, are the queue's own record and
// retention settings (acd queues).
type Config struct {
	// Dir holds the recordings ("" = <data_dir>/recordings).
	Dir string `yaml:"dir"`
	// EncryptTo, when set, is an age X25519 recipient ("age1…"): new
	// recordings are encrypted to it (files .wav.age).
	EncryptTo string `yaml:"encrypt_to"`
	// IdentityFile is an age identity file (age-keygen) the server decrypts
	// encrypted recordings with for playback; without it they cannot be
	// played from the hotline, only decrypted elsewhere.
	IdentityFile string `yaml:"identity_file"`
	// SweepEvery is how often the retention sweeper runs (default 1h).
	SweepEvery time.Duration `yaml:"sweep_every"`
}

// DefaultSweepEvery is the sweeper's interval when the config sets none.
const DefaultSweepEvery = time.Hour

// Validate reports every problem, each prefixed with its key.
func (c Config) Validate() error {
	var errs []error
	if c.EncryptTo != "" {
		if _, err := sealed.ParseRecipient(c.EncryptTo); err != nil {
			errs = append(errs, fmt.Errorf("encrypt_to: %v", err))
		}
	}
	if c.SweepEvery < 0 {
		errs = append(errs, errors.New("sweep_every: must not be negative"))
	}
	return errors.Join(errs...)
}
