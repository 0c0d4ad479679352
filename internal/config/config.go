// Package config is hotline's YAML schema, composed from the Config types of
// the packages it wires together. Load reads one file, lays it over Default,
// and validates it; every problem is reported as "file:line: message" so an
// operator can go straight to the line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/webhooks"
	"github.com/hotline/hotline/recordings"
	"github.com/hotline/hotline/sip"
)

// Config is the whole configuration of one hotline node.
type Config struct {
	SIP       sip.Config         `yaml:"sip"`
	HTTP      HTTPConfig         `yaml:"http"`
	RTP       RTPConfig          `yaml:"rtp"`
	Store     store.Config       `yaml:"store"`
	Prompts   PromptsConfig      `yaml:"prompts"`
	HoldMusic string             `yaml:"hold_music"`
	Flows     map[string]string  `yaml:"flows"`
	ACD       acd.Config         `yaml:"acd"`
	Softphone softphone.Config   `yaml:"softphone"`
	Auth      httpapi.AuthConfig `yaml:"auth"`
	// Recordings is where and how calls are recorded; each queue says what
	// it records (acd.queues[].record, .retention).
	Recordings recordings.Config `yaml:"recordings"`
	Shutdown   ShutdownConfig    `yaml:"shutdown"`
	Log        LogConfig         `yaml:"log"`

	// Webhooks are the endpoints the outbox is delivered to (none by
	// default); see internal/webhooks.Endpoint.
	Webhooks []webhooks.Endpoint `yaml:"webhooks"`
}

// HTTPConfig is the API, metrics and health listener: its address, its
// limits (timeouts, sizes, connection caps) and its HTTPS (tls_cert and
// tls_key, or behind_tls_proxy) and metrics_token; see httpapi.ServerConfig.
// They sit next to addr in the http section.
type HTTPConfig struct {
	Addr                 string `yaml:"addr"`
	httpapi.ServerConfig `yaml:",inline"`
}

// RTPConfig says where call media lives.
type RTPConfig struct {
	IP           string        `yaml:"ip"`            // address RTP sockets bind to and announce in SDP
	Ports        string        `yaml:"ports"`         // "LO-HI"
	MediaTimeout time.Duration `yaml:"media_timeout"` // no RTP for this long → hang up
	Quarantine   time.Duration `yaml:"quarantine"`    // a closed port is not reused for this long
	// Realtime gives the media pacer thread real-time priority (Linux
	// SCHED_FIFO; needs root, CAP_SYS_NICE or LimitRTPRIO=10), so busy
	// neighbours do not delay frames. Without the right it logs a warning
	// and runs at normal priority. `hotline serve` then also runs two more
	// Go processors (GOMAXPROCS) than the default, unless the GOMAXPROCS
	// variable is set, and raises the whole process's priority to nice -10
	// (needs the same rights; see cmd/hotline's spareProcs and mediaPriority).
	Realtime bool `yaml:"realtime"`
}

// PromptsConfig names the prompt folder: one sub-folder per language, one
// WAV file per prompt (prompts/en/welcome.wav).
type PromptsConfig struct {
	Dir             string   `yaml:"dir"`
	Languages       []string `yaml:"languages"`
	DefaultLanguage string   `yaml:"default_language"`
}

// ShutdownConfig bounds a graceful stop.
type ShutdownConfig struct {
	DrainTimeout time.Duration `yaml:"drain_timeout"` // live calls may run this long after SIGTERM
}

// LogConfig chooses the log level and format.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Default returns the built-in configuration: the loopback demo.
func Default() Config {
	return Config{
		SIP:  sip.DefaultConfig(),
		HTTP: HTTPConfig{Addr: "127.0.0.1:8080", ServerConfig: httpapi.DefaultServerConfig()},
		RTP: RTPConfig{
			IP: "127.0.0.1", Ports: "10000-20000",
			MediaTimeout: 30 * time.Second, Quarantine: 30 * time.Second, Realtime: true,
		},
		Store:      store.Config{DataDir: "data"},
		Softphone:  softphone.DefaultConfig(),
		Auth:       httpapi.DefaultAuthConfig(),
		Prompts:    PromptsConfig{Dir: "prompts", Languages: []string{"en"}, DefaultLanguage: "en"},
		Shutdown:   ShutdownConfig{DrainTimeout: 30 * time.Second},
		Recordings: recordings.Config{SweepEvery: recordings.DefaultSweepEvery},
		Log:        LogConfig{Level: "info", Format: "text"},
	}
}

// Load reads path from fsys over Default and validates the result. Files the
// configuration names (flows, prompts, music) are relative to fsys as well.
func Load(fsys fs.FS, path string) (Config, error) {
	cfg := Default()
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return cfg, yamlError(path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) { // an empty file means defaults
		return cfg, yamlError(path, err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, withLines(path, &root, err)
	}
	return cfg, nil
}

// FieldError is a validation problem located at a dotted key path
// ("sip.trunks.0.allow"), which Load turns into a line number.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// Validate checks the parts of the configuration that belong to no single package and
// delegates the rest. It returns every problem found, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if err := c.SIP.Validate(); err != nil {
		errs = append(errs, prefixed("sip", err))
	}
	if err := c.ACD.Validate(); err != nil {
		errs = append(errs, prefixed("acd", err))
	}
	if err := c.Softphone.Validate(); err != nil {
		errs = append(errs, prefixed("softphone", err))
	}
	if err := c.Auth.Validate(); err != nil {
		errs = append(errs, prefixed("auth", err))
	}
	if err := c.Recordings.Validate(); err != nil {
		errs = append(errs, prefixed("recordings", err))
	}
	if err := webhooks.CheckEndpoints(c.Webhooks); err != nil { // "webhooks[1].url: …"
		errs = append(errs, prefixed("webhooks", err))
	}
	for i, q := range c.ACD.Queues {
		if _, err := recordings.ParseMode(q.Record); err != nil {
			bad("acd.queues."+strconv.Itoa(i)+".record", "%v", err)
		}
		if _, err := recordings.ParseRetention(q.Retention); err != nil {
			bad("acd.queues."+strconv.Itoa(i)+".retention", "%v", err)
		}
	}
	if _, err := netip.ParseAddrPort(c.HTTP.Addr); err != nil {
		bad("http.addr", "%q is not host:port", c.HTTP.Addr)
	}
	if err := c.HTTP.ServerConfig.Validate(); err != nil { // "read_timeout: …"
		errs = append(errs, prefixed("http", err))
	}
	if _, err := netip.ParseAddr(c.RTP.IP); err != nil {
		bad("rtp.ip", "%q is not an IP address", c.RTP.IP)
	}
	if _, _, err := ParsePortRange(c.RTP.Ports); err != nil {
		bad("rtp.ports", "%v", err)
	}
	if c.RTP.MediaTimeout < 0 {
		bad("rtp.media_timeout", "must not be negative")
	}
	if len(c.Prompts.Languages) == 0 {
		bad("prompts.languages", "list at least one language")
	}
	for i, l := range c.Prompts.Languages {
		if !langOK.MatchString(l) {
			bad("prompts.languages."+strconv.Itoa(i), "%q is not a language code like en or ru", l)
		}
	}
	if !contains(c.Prompts.Languages, c.Prompts.DefaultLanguage) {
		bad("prompts.default_language", "%q is not one of the languages %v", c.Prompts.DefaultLanguage, c.Prompts.Languages)
	}
	if len(c.Flows) == 0 {
		bad("flows", "name at least one IVR flow file")
	}
	for i, t := range c.SIP.Trunks {
		if _, ok := c.Flows[t.Flow]; !ok {
			bad("sip.trunks."+strconv.Itoa(i)+".flow", "flow %q is not listed under flows", t.Flow)
		}
	}
	if c.Shutdown.DrainTimeout < 0 {
		bad("shutdown.drain_timeout", "must not be negative")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not text or json", c.Log.Format)
	}
	return errors.Join(errs...)
}

// ParsePortRange parses "LO-HI" into two ports, LO < HI.
func ParsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		lo, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			hi, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || lo < 1 || hi > 65535 || lo >= hi {
		return 0, 0, fmt.Errorf("%q is not a port range LO-HI within 1-65535", s)
	}
	return lo, hi, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// prefixed turns a package's own validation errors into located ones. A
// package reports "trunks[1].allow: …"; we make that "sip.trunks.1.allow".
func prefixed(prefix string, err error) error {
	var out []error
	for _, e := range unjoin(err) {
		msg := e.Error()
		path, rest, ok := strings.Cut(msg, ": ")
		if !ok || strings.ContainsAny(path, " \"") {
			out = append(out, &FieldError{Path: prefix, Msg: msg})
			continue
		}
		path = strings.NewReplacer("[", ".", "]", "").Replace(path)
		path = strings.TrimPrefix(path, prefix+".")
		out = append(out, &FieldError{Path: prefix + "." + path, Msg: rest})
	}
	return errors.Join(out...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// withLines rewrites each FieldError as "file:line: path: message", using the
// line of the deepest key of its path that exists in the document.
func withLines(file string, root *yaml.Node, err error) error {
	var out []error
	for _, e := range unjoin(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			out = append(out, fmt.Errorf("%s:%d: %s: %s", file, lineOf(root, fe.Path), fe.Path, fe.Msg))
			continue
		}
		out = append(out, fmt.Errorf("%s:1: %v", file, e))
	}
	return errors.Join(out...)
}

// lineOf finds the line of a dotted key path in a YAML document; for a key
// missing from the file it returns the line of its nearest present parent (1
// for the document itself).
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 1
	for _, key := range strings.Split(path, ".") {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					line = n.Content[i].Line
					next = n.Content[i+1]
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

// langOK matches the language codes prompt folders are named after.
var langOK = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]+)?$`)

// yamlLine matches the "line N:" yaml.v3 puts in its messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns yaml.v3's messages into "file:line: message" lines.
func yamlError(file string, err error) error {
	var lines []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		lines = te.Errors
	} else {
		lines = []string{err.Error()}
	}
	var out []error
	for _, l := range lines {
		if m := yamlLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			out = append(out, fmt.Errorf("%s:%s: %s", file, m[1], m[2]))
			continue
		}
		out = append(out, fmt.Errorf("%s: %s", file, strings.TrimPrefix(l, "yaml: ")))
	}
	return errors.Join(out...)
}
