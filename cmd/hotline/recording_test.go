package main

// End-to-end tests of call recording: real callers (SIPp, the test phone),
// real agents (the pure-Go WebRTC client), the node's own recorder, and the
// files it writes, read back and checked by ear (Goertzel).

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/sipptest"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/store/pgtest"
	"github.com/hotline/hotline/recordings"
	"github.com/hotline/hotline/sip/siptest"
)

// waitRecording waits until the call's recording is finished (any state
// but recording) and returns its row.
func (n *testNode) waitRecording(callID string) store.Recording {
	n.t.Helper()
	var row store.Recording
	require.Eventually(n.t, func() bool {
		list, _, err := n.store.ListRecordings(context.Background(), store.RecordingFilter{CallID: callID})
		require.NoError(n.t, err)
		if len(list) != 1 {
			require.LessOrEqual(n.t, len(list), 1, "one recording per call")
			return false
		}
		row = list[0]
		return row.State != store.RecordingActive
	}, 15*time.Second, 50*time.Millisecond, "the recording of call %s never finished", callID)
	return row
}

// audio reads a recording's two channels through the node's recorder.
func (n *testNode) audio(row store.Recording) (left, right []int16) {
	n.t.Helper()
	f, err := n.tapes.OpenAudio(context.Background(), row)
	require.NoError(n.t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	require.NoError(n.t, err)
	h, err := recordings.ParseHeader(bytes.NewReader(b), int64(len(b)))
	require.NoError(n.t, err)
	require.Equal(n.t, uint32(h.DataLen), h.Declared, "the header's length matches the data")
	for i := h.DataOffset; i+4 <= h.DataOffset+h.DataLen; i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(b[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(b[i+2:])))
	}
	return left, right
}

// window is the samples of [fromMS, toMS).
func window(s []int16, fromMS, toMS int64) []int16 {
	to := min(int64(len(s)), toMS*8)
	return s[min(to, fromMS*8):to]
}

// tone reports whether hz is clearly in s (the levels of media.Power: a 0.3
// tone measures about 0.02, silence 0).
func tone(s []int16, hz float64) bool { return media.Power(s, hz) > 0.002 }

// sleepUntil sleeps until t.
func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// A SIPp caller streams 440 Hz, the agent answers with 1000 Hz and puts the
// caller on hold for a while: the file has the caller on the left only, the
// agent on the right only, silence on both for the hold, and lasts as long
// as the bridged call.
func TestRecordingBridgedCall(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sipp := make(chan error, 1)
	go func() {
		res, err := sipptest.Run(ctx, sipptest.Options{
			Scenario: "../../internal/sipptest/testdata/tone_caller.xml",
			Target:   n.SIPAddr().String(), Service: "support", Calls: 1, Timeout: 80 * time.Second,
		})
		if err == nil {
			err = res.Err()
		}
		sipp <- err
	}()

	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	anna.SetTone(1000)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	connected := waitMsg[softphone.Call](t, anna, softphone.TypeCall)
	start := time.Now()
	require.Equal(t, softphone.CallConnected, connected.Status)
	require.Equal(t, softphone.RecordingOn, connected.Recording, "the agent's page knows the call is recorded")
	require.Eventually(t, func() bool { return anna.Heard(sipptest.ToneHz, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "the caller's tone never reached the agent")

	sleepUntil(start.Add(3 * time.Second))
	require.NoError(t, anna.Send(ctx, softphone.Hold{CallID: ring.CallID, On: true}))
	require.Equal(t, softphone.CallHeld, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	time.Sleep(2 * time.Second)
	require.NoError(t, anna.Send(ctx, softphone.Hold{CallID: ring.CallID, On: false}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	time.Sleep(3 * time.Second)
	require.NoError(t, anna.Send(ctx, softphone.Hangup{CallID: ring.CallID}))
	require.Equal(t, softphone.CallEnded, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	bridged := time.Since(start)
	require.NoError(t, <-sipp)

	row := n.waitRecording(ring.CallID)
	require.Equal(t, store.RecordingComplete, row.State, row.Reason)
	require.Equal(t, "support", row.Queue)
	require.InDelta(t, bridged.Milliseconds(), row.DurationMS, 100, "the file lasts as long as the bridged call")
	require.Len(t, row.SHA256, 64)
	require.Len(t, row.Segments, 1)
	require.Equal(t, "anna", row.Segments[0].Agent)
	require.Len(t, row.Markers, 1)
	hold := row.Markers[0]
	require.Equal(t, recordings.MarkHold, hold.Kind)
	require.InDelta(t, 2000, hold.EndMS-hold.StartMS, 200, "the hold marker spans the hold")

	left, right := n.audio(row)
	require.InDelta(t, row.DurationMS, int64(len(left))/8, 20)
	for _, talk := range [][2]int64{{500, hold.StartMS - 300}, {hold.EndMS + 500, row.DurationMS - 300}} {
		l, r := window(left, talk[0], talk[1]), window(right, talk[0], talk[1])
		require.True(t, tone(l, sipptest.ToneHz), "the caller is on the left (%v)", talk)
		require.False(t, tone(l, 1000), "the agent is not on the left (%v)", talk)
		require.True(t, tone(r, 1000), "the agent is on the right (%v)", talk)
		require.False(t, tone(r, sipptest.ToneHz), "the caller is not on the right (%v)", talk)
	}
	l, r := window(left, hold.StartMS+100, hold.EndMS-100), window(right, hold.StartMS+100, hold.EndMS-100)
	require.Less(t, media.Energy(l), 1e-5, "the hold is silence on the left")
	require.Less(t, media.Energy(r), 1e-5, "the hold is silence on the right, no hold music")

	// The call's events say when the recording started and the hold.
	var d callDetail
	require.Equal(t, 200, n.getJSON("/api/v1/calls/"+ring.CallID, &d))
	var kinds []string
	for _, e := range d.Events {
		if len(e.Kind) > 10 && e.Kind[:10] == "recording_" {
			kinds = append(kinds, e.Kind)
		}
	}
	require.Equal(t, []string{"recording_started", "recording_hold", "recording_hold"}, kinds)
	require.Equal(t, "1", n.metric("hotline_recordings_started_total"))
	require.Equal(t, "0", n.metric("hotline_recordings_active"))
}

// A call transferred from anna to boris is one file with two segments, at
// the offsets where each agent talked.
func TestRecordingTransferSegments(t *testing.T) { testTransferSegments(t, "") }

// The same on PostgreSQL, and the file played through the API: a Range
// request gets exactly its bytes, and the play is in the audit log.
func TestRecordingTransferSegmentsPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	n, row := testTransferSegments(t, pg.CreateDB(t))
	req, err := http.NewRequest("GET", "http://"+n.HTTPAddr()+"/api/v1/recordings/"+row.ID+"/audio", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+n.token)
	req.Header.Set("Range", "bytes=0-99")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusPartialContent, res.StatusCode)
	require.Len(t, body, 100)
	require.Equal(t, "RIFF", string(body[:4]))
	require.Eventually(t, func() bool {
		ev, err := n.store.ListAudit(context.Background(), store.AuditFilter{Object: row.ID})
		require.NoError(t, err)
		return len(ev) == 1 && ev[0].Action == "recording.play" && strings.HasPrefix(ev[0].Actor, "token:e2e")
	}, 5*time.Second, 50*time.Millisecond, "the play is audited")
}

func testTransferSegments(t *testing.T, database string) (*testNode, store.Recording) {
	n := startTestNode(t, nodeOptions{extra: agentQueues, database: database})
	anna := n.agent("anna")
	boris := n.agent("boris")
	call := dialSupport(t, n, testSerial)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	start := time.Now()
	time.Sleep(1500 * time.Millisecond)
	require.NoError(t, anna.Send(ctx, softphone.Transfer{CallID: ring.CallID, Agent: "boris"}))
	require.Equal(t, "transfer", waitMsg[softphone.Call](t, anna, softphone.TypeCall).EndedBy)
	annaLeft := time.Since(start)

	ring2 := waitMsg[softphone.Ring](t, boris, softphone.TypeRing)
	time.Sleep(time.Second) // boris lets it ring a while
	require.NoError(t, boris.Send(ctx, softphone.Accept{CallID: ring2.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, boris, softphone.TypeCall).Status)
	borisJoined := time.Since(start)
	boris.SetTone(1400)
	require.NoError(t, call.WaitTone(ctx, 1400, 200*time.Millisecond))
	time.Sleep(time.Second)
	require.NoError(t, call.Hangup(ctx))
	require.Equal(t, "caller", waitMsg[softphone.Call](t, boris, softphone.TypeCall).EndedBy)
	end := time.Since(start)

	row := n.waitRecording(ring.CallID)
	require.Equal(t, store.RecordingComplete, row.State, row.Reason)
	require.Len(t, row.Segments, 2, "one file, one segment per agent")
	a, b := row.Segments[0], row.Segments[1]
	require.Equal(t, "anna", a.Agent)
	require.Equal(t, "boris", b.Agent)
	require.InDelta(t, 0, a.StartMS, 150)
	require.InDelta(t, annaLeft.Milliseconds(), a.EndMS, 150)
	require.InDelta(t, borisJoined.Milliseconds(), b.StartMS, 150)
	require.InDelta(t, end.Milliseconds(), b.EndMS, 150)
	require.InDelta(t, end.Milliseconds(), row.DurationMS, 150)
	_, right := n.audio(row)
	require.True(t, tone(window(right, b.StartMS+800, b.EndMS-100), 1400), "boris is on the right in his segment")
	return n, row
}

// fullDisk is a recording file on a disk that fills up after limit bytes.
type fullDisk struct {
	*os.File
	limit int
}

func (f *fullDisk) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	f.limit -= len(p)
	return f.File.Write(p)
}

// A full disk mid-call fails the recording, not the call: audio keeps
// crossing, the call ends normally, the row says failed and why, and the
// metric counts it.
func TestRecordingDiskFullKeepsTheCall(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues, hooks: nodeHooks{
		recordingFile: func(name string) (recordings.File, error) {
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
			if err != nil {
				return nil, err
			}
			return &fullDisk{File: f, limit: 48 << 10}, nil // about 1.5 s of audio
		},
	}})
	anna := n.agent("anna")
	call := dialSupport(t, n, testSerial)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	anna.SetTone(1000)
	require.Eventually(t, func() bool { return n.metric(`hotline_recordings_failed_total{reason="disk_full"}`) == "1" },
		10*time.Second, 50*time.Millisecond, "the full disk was never counted")
	// The call goes on: both directions still carry audio.
	anna.SetTone(1200)
	require.NoError(t, call.WaitTone(ctx, 1200, 200*time.Millisecond), "the agent still reaches the caller")
	go func() { _ = call.Say(ctx, media.Tone([]float64{600}, 2*time.Second, 0.3)) }()
	require.Eventually(t, func() bool { return anna.Heard(600, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "the caller still reaches the agent")
	require.NoError(t, anna.Send(ctx, softphone.Hangup{CallID: ring.CallID}))
	require.Equal(t, softphone.CallEnded, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)

	d := n.waitEnded(call.CallID())
	require.Equal(t, "answered", d.Call.Outcome)
	row := n.waitRecording(ring.CallID)
	require.Equal(t, store.RecordingFailed, row.State)
	require.Contains(t, row.Reason, "no space left on device")
	left, _ := n.audio(row)
	require.NotEmpty(t, left, "what was written before the disk filled is kept, playable")
}

// Encrypted at rest: the file on disk is sealed to the configured age
// recipient, the node plays it back with its identity file, and
// `hotline recording decrypt` turns it into a playable WAV.
func TestRecordingEncryptedAtRest(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "recordings.key")
	require.NoError(t, os.WriteFile(keyFile, []byte("# test key\n"+id.String()+"\n"), 0o600))
	n := startTestNode(t, nodeOptions{extra: agentQueues + `
recordings:
  encrypt_to: ` + id.Recipient().String() + `
  identity_file: ` + keyFile + `
`})
	anna := n.agent("anna")
	call := dialSupport(t, n, testSerial)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	anna.SetTone(1000)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	require.NoError(t, call.WaitTone(ctx, 1000, 200*time.Millisecond))
	time.Sleep(time.Second)
	require.NoError(t, call.Hangup(ctx))

	row := n.waitRecording(ring.CallID)
	require.Equal(t, store.RecordingComplete, row.State, row.Reason)
	require.Equal(t, store.FormatSealedWAV, row.Format)
	file := filepath.Join(recordingsDir(n.cfg), filepath.FromSlash(row.Path))
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "WAVE", "no plaintext WAV on disk")
	_, right := n.audio(row)
	require.True(t, tone(window(right, 300, row.DurationMS-300), 1000), "the node plays it back decrypted")

	out := filepath.Join(t.TempDir(), "call.wav")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(ctx, []string{"recording", "decrypt", "--identity", keyFile, file, out}, &stdout, &stderr), stderr.String())
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	h, err := recordings.ParseHeader(f, st.Size())
	require.NoError(t, err)
	require.Equal(t, uint32(h.DataLen), h.Declared)
	require.Equal(t, row.DurationMS, h.DurationMS())

	err = run(ctx, []string{"recording", "decrypt", "--identity", filepath.Join(t.TempDir(), "none"), file}, &stdout, &stderr)
	require.ErrorContains(t, err, "none", "a missing identity file is named")
}

// recordModes has one queue per recording mode that starts before the
// agent: support records the whole call, billing from the queue, operator
// nothing.
const recordModes = `
acd:
  queues:
    - {name: support, members: [{agent: anna}], join_when_empty: true, record: whole, retention: 30d}
    - {name: billing, members: [{agent: boris}], join_when_empty: true, record: from_queue}
    - {name: operator, members: [{agent: anna}], join_when_empty: true, record: "off"}
softphone:
  udp_addr: 127.0.0.1:0
`

// Each queue's record setting decides where its calls' files begin: with
// the IVR's first prompt (whole), with the hold music (from_queue), or not
// at all (off: the recording made from the answer is dropped).
func TestRecordingModes(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: recordModes})
	anna := n.agent("anna")
	boris := n.agent("boris")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// answer lets the call ring in, waits, takes it, talks a second and hangs up.
	answer := func(agent *agentclient.Client, wait time.Duration) (callID string, queued time.Time) {
		t.Helper()
		ring := waitMsg[softphone.Ring](t, agent, softphone.TypeRing)
		queued = time.Now()
		time.Sleep(wait)
		agent.SetTone(1000)
		require.NoError(t, agent.Send(ctx, softphone.Accept{CallID: ring.CallID}))
		require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, agent, softphone.TypeCall).Status)
		time.Sleep(time.Second)
		require.NoError(t, agent.Send(ctx, softphone.Hangup{CallID: ring.CallID}))
		require.Equal(t, softphone.CallEnded, waitMsg[softphone.Call](t, agent, softphone.TypeCall).Status)
		waitState(t, agent, softphone.StateReady) // no wrap-up time in these queues
		return ring.CallID, queued
	}
	dial := func(keys string) {
		t.Helper()
		phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
		call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
		require.NoError(t, err)
		hear(t, call, toneOf["welcome"]) // keys pressed at once would cut the welcome short
		press(t, call, keys, media.SourceRFC4733)
	}

	t.Run("whole", func(t *testing.T) {
		dial("11#")
		id, _ := answer(anna, 2*time.Second)
		row := n.waitRecording(id)
		require.Equal(t, store.RecordingComplete, row.State, row.Reason)
		require.Equal(t, "support", row.Queue)
		require.NotNil(t, row.RetainUntil)
		require.InDelta(t, 30*24*time.Hour, row.RetainUntil.Sub(*row.EndedAt), float64(time.Second))
		_, right := n.audio(row)
		require.True(t, tone(window(right, 0, 600), toneOf["welcome"]), "the file begins with the IVR's welcome")
		require.Greater(t, row.Segments[0].StartMS, int64(2500), "the agent comes after the IVR and the wait")
		require.True(t, tone(window(right, row.Segments[0].StartMS-1500, row.Segments[0].StartMS-200), holdTone), "the wait's hold music is in")
	})
	t.Run("from_queue", func(t *testing.T) {
		dial("12")
		id, queued := answer(boris, 2*time.Second)
		row := n.waitRecording(id)
		require.Equal(t, store.RecordingComplete, row.State, row.Reason)
		require.Equal(t, "billing", row.Queue)
		require.InDelta(t, time.Since(queued).Milliseconds(), row.DurationMS, 700, "the file begins when the call joined the queue")
		_, right := n.audio(row)
		require.False(t, tone(window(right, 0, 400), toneOf["welcome"]), "no IVR in the file")
		require.True(t, tone(window(right, 200, row.Segments[0].StartMS-200), holdTone), "the hold music is in")
		require.True(t, tone(window(right, row.Segments[0].StartMS+300, row.DurationMS-100), 1000), "then the agent")
	})
	t.Run("off", func(t *testing.T) {
		dial("10")
		id, _ := answer(anna, 500*time.Millisecond)
		row := n.waitRecording(id)
		require.Equal(t, store.RecordingDeleted, row.State, "the recording made from the answer is dropped")
		require.Contains(t, row.Reason, "not recorded")
		_, err := os.Stat(filepath.Join(recordingsDir(n.cfg), filepath.FromSlash(row.Path)))
		require.ErrorIs(t, err, os.ErrNotExist, "and its file removed")
	})
}

// PCI pause: the agent pauses from the softphone, a supervisor resumes
// through the API; the page hears each state, the file marks the span.
func TestRecordingPCIPause(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	call := dialSupport(t, n, testSerial)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	time.Sleep(time.Second)
	require.NoError(t, anna.PauseRecording(ctx, ring.CallID, true))
	require.Equal(t, softphone.RecordingPaused, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Recording)
	time.Sleep(time.Second)
	req, err := http.NewRequest("POST", "http://"+n.HTTPAddr()+"/api/v1/calls/"+ring.CallID+"/recording/resume", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+n.token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "a supervisor resumes any call's recording")
	require.Equal(t, softphone.RecordingOn, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Recording)
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, call.Hangup(ctx))

	row := n.waitRecording(ring.CallID)
	require.Len(t, row.Markers, 1)
	m := row.Markers[0]
	require.Equal(t, recordings.MarkPCI, m.Kind)
	require.Equal(t, "anna", m.By)
	require.InDelta(t, 1000, m.EndMS-m.StartMS, 300)
}
