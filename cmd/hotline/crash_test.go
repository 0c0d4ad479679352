package main

// A hotline killed with SIGKILL in the middle of a recorded call: the
// process that starts next finds the .part file and finishes it.

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/loadkit"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/recordings"
	"github.com/hotline/hotline/sip/siptest"
)

func TestKilledMidCallRecordingIsRecovered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hl := newProcessHotline(t, ctx, "45000-45999", `data_dir: "DATA"`)
	data, work, password := hl.data, hl.work, hl.password
	st, err := store.Open(ctx, store.Config{DataDir: data}, nil)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	hl.addAnna(st)
	require.NoError(t, st.Close())
	first := hl.start("first")

	cookie, status := loginAt(t, first.HTTPAddr(), "anna", password)
	require.Equal(t, 200, status)
	anna, _ := connectAgent(t, first.HTTPAddr(), cookie)
	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	call, err := phone.Dial(ctx, "sip:support@"+first.SIPAddr(), siptest.DialOptions{})
	require.NoError(t, err)
	press(t, call, "11#", media.SourceRFC4733)
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	anna.SetTone(1000)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	connected := time.Now()
	go func() { _ = call.Say(ctx, media.Tone([]float64{600}, 10*time.Second, 0.3)) }()
	require.NoError(t, call.WaitTone(ctx, 1000, 200*time.Millisecond))
	sleepUntil(connected.Add(4 * time.Second))

	require.NoError(t, syscall.Kill(first.PID(), syscall.SIGKILL))
	talked := time.Since(connected)
	_ = first.Close()
	parts, _ := filepath.Glob(filepath.Join(data, "recordings", "*", "*", "*", "*.part"))
	require.Len(t, parts, 1, "the killed process left its recording as a .part file")

	second := hl.start("second")
	logs, err := os.ReadFile(filepath.Join(work, "second.log"))
	require.NoError(t, err)
	require.Contains(t, string(logs), "recording recovered")
	require.NoError(t, second.Close())

	st, err = store.Open(ctx, store.Config{DataDir: data}, nil)
	require.NoError(t, err)
	defer st.Close()
	list, _, err := st.ListRecordings(ctx, store.RecordingFilter{CallID: ring.CallID})
	require.NoError(t, err)
	require.Len(t, list, 1)
	row := list[0]
	require.Equal(t, store.RecordingRecovered, row.State)
	require.False(t, strings.HasSuffix(row.Path, ".part"))
	require.Len(t, row.SHA256, 64)
	require.LessOrEqual(t, row.DurationMS, talked.Milliseconds()+100)
	require.GreaterOrEqual(t, row.DurationMS, talked.Milliseconds()-1200, "at most about a second is lost")
	require.Equal(t, []store.RecordingSegment{{Agent: "anna", StartMS: row.Segments[0].StartMS, EndMS: row.DurationMS}}, row.Segments)

	f, err := os.Open(filepath.Join(data, "recordings", filepath.FromSlash(row.Path)))
	require.NoError(t, err)
	defer f.Close()
	fi, err := f.Stat()
	require.NoError(t, err)
	h, err := recordings.ParseHeader(f, fi.Size())
	require.NoError(t, err)
	require.Equal(t, uint32(h.DataLen), h.Declared, "the header's length matches the data: a playable WAV")
	require.Equal(t, fi.Size(), h.DataOffset+h.DataLen)
	require.Equal(t, ring.CallID, h.CallID)
}

// processHotline is a real hotline process's folder, like an operator's: the
// binary built from this module, a configuration folder with the test flow
// and prompts and the agents' queues, the data folder beside it, and the
// agent anna in the store.
type processHotline struct {
	t              *testing.T
	ctx            context.Context
	bin, work      string
	data, password string
}

// newProcessHotline builds and lays out a hotline for processes; store is
// the store section's fields, DATA standing for the data folder.
func newProcessHotline(t *testing.T, ctx context.Context, rtpPorts, storeFields string) *processHotline {
	t.Helper()
	root, err := loadkit.ModuleRoot(ctx, "go")
	require.NoError(t, err)
	work := t.TempDir()
	bin, err := loadkit.BuildHotline(ctx, "go", root, work)
	require.NoError(t, err)
	data := filepath.Join(work, "data")
	yaml := `
sip: {addr: 127.0.0.1:0, trunks: [{name: test, flow: demo}]}
http: {addr: "127.0.0.1:0"}
rtp: {ip: 127.0.0.1, ports: "` + rtpPorts + `", realtime: false}
store: {` + strings.ReplaceAll(storeFields, "DATA", data) + `}
prompts: {dir: prompts, languages: [en, ru], default_language: en}
hold_music: music/hold.wav
flows: {demo: flows/demo.yaml}
` + agentQueues
	for name, f := range testAssets(t, yaml) {
		p := filepath.Join(work, "conf", filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, f.Data, 0o644))
	}
	return &processHotline{t: t, ctx: ctx, bin: bin, work: work, data: data, password: "correct horse battery staple"}
}

// addAnna creates the agent anna in st.
func (h *processHotline) addAnna(st store.UserStore) {
	h.t.Helper()
	u, err := newUser("anna", "Anna", store.RoleAgent, nil, "en", h.password)
	require.NoError(h.t, err)
	require.NoError(h.t, st.CreateUser(h.ctx, u))
}

// start runs the hotline, logging to name.log in its folder, until the test ends.
func (h *processHotline) start(name string) *loadkit.Server {
	h.t.Helper()
	s, err := loadkit.StartServer(h.ctx, loadkit.ServerConfig{
		Bin: h.bin, Dir: h.work, Args: []string{"--config", filepath.Join(h.work, "conf", "config.yaml")},
		LogPath: filepath.Join(h.work, name+".log"), StopTimeout: 10 * time.Second, Log: slog.New(slog.DiscardHandler),
	})
	require.NoError(h.t, err)
	h.t.Cleanup(func() { _ = s.Close() })
	return s
}

// Two hotline processes on one box, each with `--softphone 127.0.0.1:0`,
// start side by side (no collision on the demo's fixed 127.0.0.1:50000),
// and each logs the softphone port it got.
func TestTwoProcessesSoftphonePortZero(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := newProcessHotline(t, ctx, "46000-46999", "data_dir: DATA")
	ports := map[string]bool{}
	for i, name := range []string{"first", "second"} {
		s, err := loadkit.StartServer(ctx, loadkit.ServerConfig{
			Bin: h.bin, Dir: h.work, LogPath: filepath.Join(h.work, name+".log"), StopTimeout: 10 * time.Second,
			Args: []string{"--config", filepath.Join(h.work, "conf", "config.yaml"), "--softphone", "127.0.0.1:0",
				"--data", filepath.Join(h.work, name), "--rtp-ports", []string{"46000-46499", "46500-46999"}[i]},
			Log: slog.New(slog.DiscardHandler),
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		log, err := os.ReadFile(s.LogPath())
		require.NoError(t, err)
		m := regexp.MustCompile(`softphone: listening.* udp=127\.0\.0\.1:(\d+)`).FindSubmatch(log)
		require.NotNil(t, m, "the softphone's real port is logged:\n%s", log)
		require.NotEqual(t, "0", string(m[1]))
		ports[string(m[1])] = true
	}
	require.Len(t, ports, 2, "two different ports")
}
