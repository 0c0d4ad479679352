package sealed

import (
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
)

// ParseRecipient parses an age X25519 recipient, the "age1..." public key that
// age-keygen prints (and age-keygen -y derives from an identity file).
// Surrounding white space is ignored.
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, fmt.Errorf("sealed: empty age recipient")
	case strings.HasPrefix(strings.ToUpper(s), "AGE-SECRET-KEY-"):
		// Do not echo it: it is a private key.
		return nil, fmt.Errorf("sealed: the age recipient is a secret key (AGE-SECRET-KEY-...); give its public key (age1..., as age-keygen -y prints it)")
	case strings.HasPrefix(s, "age1pq1"):
		return nil, fmt.Errorf("sealed: post-quantum age recipients (age1pq1...) are not supported, their header costs ~1.6 KB per frame; give an X25519 recipient (age1...)")
	case !strings.HasPrefix(s, "age1"):
		return nil, fmt.Errorf("sealed: age recipient %q is not an X25519 recipient (age1...)", s)
	}
	r, err := age.ParseX25519Recipient(s)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return r, nil
}

// LoadIdentities reads an age identity file as age-keygen writes it: one
// "AGE-SECRET-KEY-1..." per line, with empty lines and lines starting with "#"
// ignored. The file should be readable by the service user alone; this is not
// checked.
func LoadIdentities(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sealed: identity file: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("sealed: identity file %s: %w", path, err)
	}
	return ids, nil
}
