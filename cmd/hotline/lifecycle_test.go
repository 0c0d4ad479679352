package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/store/pgtest"
	"github.com/hotline/hotline/sip/siptest"
)

// SIGTERM drains: a new INVITE gets 503 with Retry-After, the live call runs
// on until the drain timeout, is then hung up with BYE, and its row is
// complete once the node has stopped.
func TestShutdownDrainsCalls(t *testing.T) {
	n := startTestNode(t, nodeOptions{drain: 1500 * time.Millisecond})
	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	hear(t, call, toneOf["welcome"])
	press(t, call, "11#", media.SourceRFC4733)
	hear(t, call, holdTone)

	stopped := make(chan error, 1)
	start := time.Now()
	go func() { stopped <- n.Shutdown(context.Background()) }()
	require.Eventually(t, func() bool {
		_, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
		var re *siptest.ResponseError
		return errors.As(err, &re) && re.Code == 503
	}, 2*time.Second, 100*time.Millisecond, "a new call during the drain gets 503")
	hear(t, call, holdTone) // the live call is still up

	select {
	case <-call.Done():
		require.GreaterOrEqual(t, time.Since(start), time.Second, "BYE only after the drain timeout")
	case <-ctx.Done():
		t.Fatal("the live call was never hung up")
	}
	require.NoError(t, <-stopped)

	// The node is gone: read its database directly.
	st, err := store.Open(context.Background(), n.cfg.Store, nil)
	require.NoError(t, err)
	defer st.Close()
	calls, _, err := st.ListCalls(context.Background(), store.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, calls, 1, "the 503 calls were refused before they got a row")
	c := calls[0]
	require.NotNil(t, c.EndedAt)
	require.Equal(t, "shutdown", c.Outcome)
	require.Equal(t, "hotline", c.HangupSide)
	require.Equal(t, "shutdown", c.HangupCause)
}

// PostgreSQL restarts while calls are live; the calls go on, and afterwards
// every row and event is in the database.
func TestPostgresRestartLosesNothing(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.CreateDB(t)
	n := startTestNode(t, nodeOptions{database: url})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const calls = 4
	var live []*siptest.PhoneCall
	for i := 0; i < calls; i++ {
		p := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
		c, err := p.Dial(ctx, n.uri("support"), siptest.DialOptions{})
		require.NoError(t, err)
		live = append(live, c)
	}
	pg.Halt(t) // the database is gone while the callers navigate the menu
	require.Eventually(t, func() bool { return n.getJSON("/readyz", nil) == 503 }, 5*time.Second, 100*time.Millisecond,
		"/readyz reports the store unreachable")
	for _, c := range live {
		press(t, c, "11#", media.SourceRFC4733)
	}
	for _, c := range live {
		hear(t, c, holdTone)
		require.NoError(t, c.Hangup(ctx))
	}
	pg.Resume(t)
	require.Equal(t, 200, n.getJSON("/readyz", nil))
	require.NoError(t, n.Shutdown(context.Background())) // flushes the writer

	st, err := store.Open(context.Background(), store.Config{Database: url}, nil)
	require.NoError(t, err)
	defer st.Close()
	rows, _, err := st.ListCalls(context.Background(), store.Page{Limit: 100})
	require.NoError(t, err)
	require.Len(t, rows, calls)
	for _, r := range rows {
		require.NotNil(t, r.EndedAt, r.ID)
		require.Equal(t, "queued", r.Outcome)
		require.Equal(t, "11#", r.Digits)
		_, events, err := st.GetCall(context.Background(), r.ID)
		require.NoError(t, err)
		var digits int
		for i, e := range events {
			require.Equal(t, i+1, e.Seq, "no gap in the event list")
			if e.Kind == "digit" {
				digits++
			}
		}
		require.Equal(t, 3, digits)
		require.Equal(t, "ended", events[len(events)-1].Kind)
	}
}

// `hotline check` prints the demo's flow as a tree; a broken flow is named by
// file and line, and serve refuses to start with it.
func TestCheckCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"check"}, &out, &errOut))
	require.Contains(t, out.String(), "main [menu] prompt main-menu")
	require.Contains(t, out.String(), "configuration OK")
	require.NotContains(t, out.String(), "warning", "the demo labels every node and reason in en and ru")

	// A node without a label and a reason without a Russian text are
	// warned about, with the file and line of the node.
	unlabelled := t.TempDir()
	for name, f := range testAssets(t, "flows: {demo: flows/demo.yaml}\nprompts: {languages: [en, ru]}\n"+
		"acd: {not_ready_reasons: [break, paperwork], not_ready_labels: {break: {en: Break, ru: Перерыв}, paperwork: {en: Paperwork}}}\n") {
		p := filepath.Join(unlabelled, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		data := f.Data
		if name == "flows/demo.yaml" {
			data = []byte(strings.Replace(string(data), "    label: {en: Operator, ru: Оператор}\n", "", 1))
		}
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"check", filepath.Join(unlabelled, "config.yaml")}, &out, &errOut))
	require.Regexp(t, `warning: flows/demo\.yaml:\d+: node "to-operator" has no label`, out.String())
	require.Contains(t, out.String(), `warning: acd.not_ready_labels: reason "paperwork" has no ru text (agents see "paperwork")`)
	require.Contains(t, out.String(), "configuration OK: 1 flow(s), languages [en ru], 2 warning(s)")

	dir := t.TempDir()
	fsys := testAssets(t, "flows: {demo: flows/demo.yaml}\nprompts: {languages: [en, ru]}\n")
	for name, f := range fsys {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		data := f.Data
		if name == "flows/demo.yaml" {
			data = []byte(strings.Replace(string(data), "next: choose-language", "next: nowhere", 1))
		}
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	err := run(context.Background(), []string{"check", filepath.Join(dir, "config.yaml")}, &out, &errOut)
	require.Error(t, err)
	require.Regexp(t, `flows/demo\.yaml:\d+: .*nowhere`, err.Error())

	err = run(context.Background(), []string{"serve", "--config", filepath.Join(dir, "config.yaml"),
		"--sip", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data", t.TempDir()}, &out, &errOut)
	require.Error(t, err, "serve refuses a broken flow")
	require.Regexp(t, `flows/demo\.yaml:\d+: `, err.Error())

	err = run(context.Background(), []string{"serve", "--rtp-ports", "9-1"}, &out, &errOut)
	require.ErrorContains(t, err, "rtp.ports")
}

// A reload with a broken flow keeps the running flows; a good one takes effect
// for the next call.
func TestReloadKeepsFlowsOnError(t *testing.T) {
	n := startTestNode(t, nodeOptions{})
	broken := testAssets(t, "")
	broken["flows/demo.yaml"] = &fstest.MapFile{Data: []byte("start: nowhere\nnodes: {}\n")}
	n.reload(n.cfg, broken)
	require.Contains(t, n.logs.String(), "reload failed; keeping the running flows")

	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	hear(t, call, toneOf["welcome"]) // the old flow still answers
	require.NoError(t, call.Hangup(ctx))

	changed := testAssets(t, "")
	changed["prompts/en/welcome.wav"] = &fstest.MapFile{Data: wav(t, 900, toneLen)}
	n.reload(n.cfg, changed)
	call, err = phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	hear(t, call, 900) // the new welcome prompt
	require.NoError(t, call.Hangup(ctx))
}
