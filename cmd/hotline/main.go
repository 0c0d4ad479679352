// Command hotline is the telephony hotline in one binary: the SIP edge, IVR,
// call records, HTTP API and metrics.
//
//	hotline serve   [--config FILE] [--sip ADDR] [--http ADDR] [--rtp-ports LO-HI] [--data DIR] [--database URL]
//	hotline check   [FILE]         validate a configuration and print its IVR flows as trees
//	hotline migrate [--config FILE] [--data DIR] [--database URL]
//	hotline cert    --host NAME[,IP...] [--out DIR]   write a self-signed HTTPS pair for a LAN trial
//	hotline recording decrypt --identity FILE IN.wav.age [OUT.wav]
//	hotline version
//
// With no --config, the built-in demo runs (loopback, demo IVR, SQLite under ./data).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // IVR schedules name IANA zones; do not depend on the host's zoneinfo
)

// version is the release string; set with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var ue usageError
		if !errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "hotline:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a command-line mistake; the flag package already printed it.
type usageError struct{ error }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

const usage = `usage: hotline <command> [flags]

commands:
  serve     run the hotline (no flags: the built-in loopback demo)
  check     validate a configuration file and print its IVR flows
  migrate   bring the database schema up to date
  cert      write a self-signed HTTPS certificate and key (cert --host NAME[,IP...] --out DIR)
  user      manage agents, supervisors and admins (add, passwd, list, disable, enable)
  token     manage API tokens for scripts (create, list, disable, enable)
  recording decrypt an encrypted recording file (decrypt --identity FILE IN [OUT])
  webhook-test  a local webhook receiver that prints and verifies what it gets
  version   print the version
`

// run dispatches a subcommand; it is main without the process around it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command")}
	}
	switch args[0] {
	case "serve":
		return serveCmd(ctx, args[1:], stdout, stderr)
	case "check":
		return checkCmd(args[1:], stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args[1:], stdout, stderr)
	case "cert":
		return certCmd(args[1:], stdout, stderr)
	case "user":
		return userCmd(ctx, args[1:], os.Stdin, stdout, stderr)
	case "token":
		return tokenCmd(ctx, args[1:], stdout, stderr)
	case "recording":
		return recordingCmd(args[1:], stdout, stderr)
	case "webhook-test":
		return webhookTestCmd(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "hotline", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "hotline: unknown command %q\n%s", args[0], usage)
	return usageError{fmt.Errorf("unknown command %q", args[0])}
}
