package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/hotline/hotline/internal/webhooks"
)

const webhookTestUsage = `usage: hotline webhook-test [--listen ADDR] (--secret S | --secret-file FILE) [--window D]

runs a local receiver for hotline-format webhooks, to try an endpoint's configuration:
point a webhooks entry at http://ADDR/ with the same secret. Each request prints one line
(id, topic, key, and "verified", "duplicate" or why it was refused); only a verified
delivery is answered 2xx.
`

// webhookTestCmd is hotline webhook-test: a receiver that prints what it gets.
func webhookTestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("webhook-test", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, webhookTestUsage); fl.PrintDefaults() }
	listen := fl.String("listen", "127.0.0.1:9099", "`ADDR` to listen on")
	secret := fl.String("secret", "", "the endpoint's `SECRET`")
	secretFile := fl.String("secret-file", "", "read the secret from `FILE` instead")
	window := fl.Duration("window", webhooks.DefaultWindow, "replay window: how far a signature's time may be from now")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fl.NArg() > 0 {
		fl.Usage()
		return usageError{fmt.Errorf("webhook-test takes no arguments")}
	}
	if *secretFile != "" {
		if *secret != "" {
			return usageError{errors.New("webhook-test: give --secret or --secret-file, not both")}
		}
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			return fmt.Errorf("webhook-test: %w", err)
		}
		*secret = strings.TrimRight(string(b), "\r\n")
	}
	if *secret == "" {
		fl.Usage()
		return usageError{errors.New("webhook-test: --secret is required")}
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("webhook-test: %w", err)
	}
	var mu sync.Mutex // one line at a time from concurrent requests
	rcv := webhooks.NewReceiver(*secret, func(r webhooks.Received) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(stdout, receivedLine(time.Now(), r))
	})
	rcv.Window = *window
	srv := &http.Server{Handler: rcv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "listening on http://%s/ (Ctrl-C to stop)\n", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = srv.Shutdown(shutdown)
		cancel()
		if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
			err = serveErr
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// receivedLine is one request as webhook-test prints it.
func receivedLine(at time.Time, r webhooks.Received) string {
	show := func(s string) string { // one line, one field: quote what would break it
		switch {
		case s == "":
			return "-"
		case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) || r == '"' }):
			return strconv.Quote(s)
		}
		return s
	}
	e := r.Event
	verdict := "verified"
	switch {
	case r.Err != nil:
		verdict = fmt.Sprintf("REFUSED %d: %v", r.Status, r.Err)
	case r.Duplicate:
		verdict = "duplicate"
	}
	return fmt.Sprintf("%s id=%s topic=%s key=%s %s", at.Format("15:04:05.000"), show(e.ID), show(e.Topic), show(e.Key), verdict)
}
