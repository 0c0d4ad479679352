package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/hotline/hotline/internal/config"
	"github.com/hotline/hotline/internal/demo"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/switchboard"
	"github.com/hotline/hotline/internal/webhooks"
	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/ivr/flowfile"
)

// overrides are the flags that replace values of the configuration file.
type overrides struct {
	config, sip, http, rtpPorts, data, database string
	softphone                                   string // softphone.udp_addr
	// webhook and webhookSecret add one webhook endpoint named "cli" (the
	// README's quick try with `hotline webhook-test`).
	webhook, webhookSecret string
}

func (o *overrides) register(fl *flag.FlagSet, serving bool) {
	fl.StringVar(&o.config, "config", "", "configuration `FILE` (default: the built-in demo)")
	fl.StringVar(&o.data, "data", "", "data `DIR` for the embedded store")
	fl.StringVar(&o.database, "database", "", "PostgreSQL `URL` (default: embedded SQLite under the data dir)")
	if serving {
		fl.StringVar(&o.sip, "sip", "", "SIP listen `ADDR` (UDP and TCP)")
		fl.StringVar(&o.http, "http", "", "HTTP listen `ADDR`")
		fl.StringVar(&o.rtpPorts, "rtp-ports", "", "RTP port range `LO-HI`")
		fl.StringVar(&o.softphone, "softphone", "", "the agents' WebRTC UDP `ADDR` (softphone.udp_addr; port 0 picks a free port, logged)")
		fl.StringVar(&o.webhook, "webhook", "", "also deliver every webhook event to `URL` (endpoint \"cli\", hotline format)")
		fl.StringVar(&o.webhookSecret, "webhook-secret", "", "the `SECRET` that signs --webhook's events (16 bytes or more)")
	}
}

// loadConfig reads the configuration (the file, or the built-in demo), lays
// the flags that were set over it, and validates the result. It returns the
// file system the configuration's relative paths resolve in.
func loadConfig(o overrides) (config.Config, fs.FS, error) {
	fsys, name := demo.FS(), "config.yaml"
	if o.config != "" {
		abs, err := filepath.Abs(o.config)
		if err != nil {
			return config.Config{}, nil, err
		}
		fsys, name = os.DirFS(filepath.Dir(abs)), filepath.Base(abs)
	}
	cfg, err := config.Load(fsys, name)
	if err != nil {
		return cfg, nil, err
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.SIP.Addr, o.sip)
	set(&cfg.HTTP.Addr, o.http)
	set(&cfg.RTP.Ports, o.rtpPorts)
	set(&cfg.Softphone.UDPAddr, o.softphone)
	set(&cfg.Store.DataDir, o.data)
	set(&cfg.Store.Database, o.database)
	if o.webhook != "" || o.webhookSecret != "" {
		cfg.Webhooks = append(cfg.Webhooks, webhooks.Endpoint{Name: "cli", URL: o.webhook, Secret: o.webhookSecret})
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, fmt.Errorf("after applying flags: %w", err)
	}
	return cfg, fsys, nil
}

// loadAssets decodes the prompts and music and loads and validates the flows.
// A failure here never reaches a live call: serve refuses to start, and a
// reload keeps the old assets.
func loadAssets(cfg config.Config, fsys fs.FS) (*switchboard.Assets, map[string]*ivr.Flow, error) {
	prompts, err := switchboard.LoadPrompts(fsys, cfg.Prompts.Dir, cfg.Prompts.Languages)
	if err != nil {
		return nil, nil, err
	}
	var hold *media.Prompt
	if cfg.HoldMusic != "" {
		if hold, err = media.LoadWAVFile(fsys, cfg.HoldMusic); err != nil {
			return nil, nil, err
		}
	}
	flows, err := flowfile.LoadAll(fsys, cfg.Flows)
	if err != nil {
		return nil, nil, err
	}
	if err := ivr.Validate(flows, prompts); err != nil {
		return nil, nil, err
	}
	if err := checkQueues(cfg, flows); err != nil {
		return nil, nil, err
	}
	engine, err := ivr.NewEngine(flows)
	if err != nil {
		return nil, nil, err
	}
	return &switchboard.Assets{
		Engine: engine, Prompts: prompts, HoldMusic: hold, DefaultLanguage: cfg.Prompts.DefaultLanguage,
	}, flows, nil
}

// newLogger builds the process logger from the configuration.
func newLogger(cfg config.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// checkQueues makes sure every queue a flow routes to is configured, once the
// ACD has queues at all (without them queued callers only hear hold music).
func checkQueues(cfg config.Config, flows map[string]*ivr.Flow) error {
	if len(cfg.ACD.Queues) == 0 {
		return nil
	}
	known := map[string]bool{}
	for _, q := range cfg.ACD.Queues {
		known[q.Name] = true
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(flows)) {
		for _, id := range slices.Sorted(maps.Keys(flows[name].Nodes)) {
			n := flows[name].Nodes[id]
			if n.Type == ivr.TypeQueue && !known[n.Queue] {
				errs = append(errs, fmt.Errorf("%s: node %s: queue %q is not configured under acd.queues", n.Pos, id, n.Queue))
			}
		}
	}
	return errors.Join(errs...)
}
