package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/hotline/hotline/internal/store"
)

// migrateCmd brings the configured database's schema up to date.
func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o overrides
	o.register(fl, false)
	if err := fl.Parse(args); err != nil {
		return usageError{err}
	}
	cfg, _, err := loadConfig(o)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.Store, newLogger(cfg.Log, stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "database schema is up to date")
	return nil
}
