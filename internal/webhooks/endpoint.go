package webhooks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hotline/hotline/internal/store"
)

// Formats an endpoint can receive.
const (
	// FormatHotline is a signed JSON Event per message (the default).
	FormatHotline = "hotline"
	// FormatZammad is Zammad's generic CTI push API: call.* messages as
	// form posts, no signature (the token is part of the URL).
	FormatZammad = "zammad"
)

// Defaults of an Endpoint's optional fields.
const (
	DefaultTimeout = 10 * time.Second
	// MinSecretLen is the shortest secret a hotline endpoint may use.
	MinSecretLen = 16
)

// Topics lists every outbox topic, in the order they are documented.
func Topics() []string {
	return []string{
		store.TopicCallRinging, store.TopicCallAnswered, store.TopicCallEnded,
		store.TopicTicketCreated, store.TopicTicketUpdated, store.TopicRecordingReady,
	}
}

// Endpoint is one webhook receiver, as configured under `webhooks:`.
type Endpoint struct {
	// Name identifies the endpoint in logs and metrics, and is the key the
	// store tracks its deliveries under: renaming an endpoint replays the
	// outbox to it.
	Name string `yaml:"name"`
	// URL is the http or https address messages are POSTed to. For Zammad it
	// is the CTI endpoint with its token, https://zammad/api/v1/cti/TOKEN.
	URL string `yaml:"url"`
	// Format is FormatHotline ("" means hotline) or FormatZammad.
	Format string `yaml:"format"`
	// Secret signs hotline-format deliveries (at least MinSecretLen bytes).
	// SecretFile names a file holding it instead (trailing newlines are
	// trimmed); give one of the two.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// Events are the topics the endpoint wants; empty means all of them.
	// Messages of other topics are marked delivered without a request.
	Events []string `yaml:"events"`
	// Timeout bounds one delivery attempt (DefaultTimeout when 0).
	Timeout time.Duration `yaml:"timeout"`
}

// withDefaults returns e with its empty optional fields filled in.
func (e Endpoint) withDefaults() Endpoint {
	if e.Format == "" {
		e.Format = FormatHotline
	}
	if len(e.Events) == 0 {
		if e.Format == FormatZammad {
			e.Events = zammadTopics()
		} else {
			e.Events = Topics()
		}
	} else {
		e.Events = slices.Clone(e.Events)
	}
	if e.Timeout == 0 {
		e.Timeout = DefaultTimeout
	}
	return e
}

// WithDefaults returns a copy of eps with every endpoint's empty optional
// fields (format, events, timeout) set to their defaults.
func WithDefaults(eps []Endpoint) []Endpoint {
	out := make([]Endpoint, len(eps))
	for i, e := range eps {
		out[i] = e.withDefaults()
	}
	return out
}

// Wants reports whether the endpoint subscribed to topic (an empty Events
// list subscribes to all).
func (e Endpoint) Wants(topic string) bool {
	return len(e.Events) == 0 || slices.Contains(e.Events, topic)
}

// nameOK is what an endpoint name may look like: it is a metric label and a
// store key, so keep it short and plain.
var nameOK = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// FieldError is one problem with one endpoint's field. Its message reads
// "webhooks[1].url: …", the form internal/config locates in the file.
type FieldError struct {
	Index int    // position in the list
	Field string // yaml key: name, url, format, secret, events, timeout ...
	Msg   string
}

func (e *FieldError) Error() string {
	return "webhooks[" + strconv.Itoa(e.Index) + "]." + e.Field + ": " + e.Msg
}

// CheckEndpoints validates a webhooks list: names present and unique, http
// or https URLs, known formats and events, a secret of at least
// MinSecretLen bytes (or a secret_file) for hotline endpoints, no negative
// timeout. It reads no files. Every problem is returned, joined; each is a
// *FieldError.
func CheckEndpoints(eps []Endpoint) error {
	var errs []error
	bad := func(i int, field, format string, args ...any) {
		errs = append(errs, &FieldError{Index: i, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}
	for i, e := range eps {
		switch {
		case e.Name == "":
			bad(i, "name", "every webhook needs a name")
		case !nameOK.MatchString(e.Name):
			bad(i, "name", "%q: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", e.Name)
		default:
			if j, dup := seen[e.Name]; dup {
				bad(i, "name", "%q is already the name of webhooks[%d]", e.Name, j)
			} else {
				seen[e.Name] = i
			}
		}
		if msg := checkURL(e.URL); msg != "" {
			bad(i, "url", "%s", msg)
		}
		format := e.Format
		switch format {
		case "", FormatHotline:
			format = FormatHotline
			switch {
			case e.Secret != "" && e.SecretFile != "":
				bad(i, "secret", "give secret or secret_file, not both")
			case e.Secret == "" && e.SecretFile == "":
				bad(i, "secret", "a hotline webhook needs a secret (or secret_file) to sign its deliveries")
			case e.SecretFile == "" && len(e.Secret) < MinSecretLen:
				bad(i, "secret", "is %d bytes; use at least %d (for example: openssl rand -hex 32)", len(e.Secret), MinSecretLen)
			}
		case FormatZammad:
			if e.Secret != "" || e.SecretFile != "" {
				bad(i, "secret", "zammad deliveries are not signed; the CTI token belongs in the url")
			}
		default:
			bad(i, "format", "%q is not hotline or zammad", e.Format)
		}
		for j, ev := range e.Events {
			field := "events." + strconv.Itoa(j)
			switch {
			case !slices.Contains(Topics(), ev):
				bad(i, field, "%q is not one of %s", ev, strings.Join(Topics(), ", "))
			case format == FormatZammad && !slices.Contains(zammadTopics(), ev):
				bad(i, field, "%q: zammad webhooks receive only %s", ev, strings.Join(zammadTopics(), ", "))
			case slices.Index(e.Events, ev) < j:
				bad(i, field, "%q is listed twice", ev)
			}
		}
		if e.Timeout < 0 {
			bad(i, "timeout", "must not be negative")
		}
	}
	return errors.Join(errs...)
}

// checkURL returns what is wrong with a webhook URL, or "".
func checkURL(s string) string {
	if s == "" {
		return "every webhook needs a url"
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("%q is not a URL", redact(s))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Sprintf("%q is not an http:// or https:// URL", redact(s))
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Sprintf("%q has no host", redact(s))
	}
	return ""
}

// redact shortens a URL for messages and logs: scheme, host and the first
// path segment only, since a Zammad URL carries its token in the path.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if len(s) > 24 {
			return s[:24] + "…"
		}
		return s
	}
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" {
		out += "/…"
	}
	return out
}

// ParseEndpoints reads a YAML document holding one `webhooks:` list (and
// nothing else), validates it with CheckEndpoints and returns it with
// defaults applied. Problems carry the line they are on: "line 7:
// webhooks[1].url: …".
func ParseEndpoints(data []byte) ([]Endpoint, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	var doc struct {
		Webhooks []Endpoint `yaml:"webhooks"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	if err := CheckEndpoints(doc.Webhooks); err != nil {
		var out []error
		for _, e := range unjoin(err) {
			var fe *FieldError
			if errors.As(e, &fe) {
				e = fmt.Errorf("line %d: %w", lineOf(&root, fe), fe)
			}
			out = append(out, e)
		}
		return nil, errors.Join(out...)
	}
	return WithDefaults(doc.Webhooks), nil
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// lineOf finds the line of fe's key (webhooks → item → field → list item)
// in a document, or of its nearest present parent.
func lineOf(root *yaml.Node, fe *FieldError) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 1
	path := append([]string{"webhooks", strconv.Itoa(fe.Index)}, strings.Split(fe.Field, ".")...)
	for _, key := range path {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}
