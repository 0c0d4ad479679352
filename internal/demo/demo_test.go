package demo

import (
	"encoding/binary"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/ivr/flowfile"
	"github.com/stretchr/testify/require"
)

// promptNames lists every prompt the demo flow may ask for, and those the
// switchboard plays by itself (queue announcements, the voicemail beep and
// thanks).
var promptNames = []string{
	"welcome", "choose-language", "main-menu", "enter-serial", "you-entered",
	"enter-ticket", "invalid", "no-input", "goodbye", "connecting", "closed",
	"digit-0", "digit-1", "digit-2", "digit-3", "digit-4",
	"digit-5", "digit-6", "digit-7", "digit-8", "digit-9", "star", "hash",
	"confirm-entry", "ticket-status-is", "status-new", "status-open", "status-pending",
	"status-solved", "status-closed", "updated-today", "updated-yesterday", "updated",
	"days-ago", "ticket-unknown", "try-later", "leave-message", "voicemail-thanks", "beep",
	"position-is", "wait-is", "wait-short", "all-busy", "overflow",
}

// requirePCM16 checks b is a canonical 8 kHz mono PCM16 WAV with audio in it
// and returns its duration in seconds.
func requirePCM16(t *testing.T, name string, b []byte) float64 {
	t.Helper()
	require.GreaterOrEqual(t, len(b), 44, name)
	require.Equal(t, "RIFF", string(b[0:4]), name)
	require.Equal(t, "WAVE", string(b[8:12]), name)
	require.Equal(t, "fmt ", string(b[12:16]), name)
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(b[20:]), "%s: PCM", name)
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(b[22:]), "%s: mono", name)
	require.Equal(t, uint32(8000), binary.LittleEndian.Uint32(b[24:]), "%s: 8 kHz", name)
	require.Equal(t, uint16(16), binary.LittleEndian.Uint16(b[34:]), "%s: 16-bit", name)
	require.Equal(t, "data", string(b[36:40]), name)
	n := binary.LittleEndian.Uint32(b[40:])
	require.Equal(t, int(n), len(b)-44, "%s: data length", name)

	var peak int
	for i := 44; i+1 < len(b); i += 2 {
		v := int(int16(binary.LittleEndian.Uint16(b[i:])))
		peak = max(peak, v, -v)
	}
	require.Greater(t, peak, 3000, "%s: sounds silent", name)
	return float64(n) / 16000
}

func TestPromptsPresentInBothLanguages(t *testing.T) {
	for _, lang := range []string{"en", "ru"} {
		for _, name := range promptNames {
			path := "prompts/" + lang + "/" + name + ".wav"
			b, err := fs.ReadFile(FS(), path)
			require.NoError(t, err)
			secs := requirePCM16(t, path, b)
			require.Less(t, secs, 15.0, "%s: prompt too long", path)
		}
	}
}

func TestHoldMusic(t *testing.T) {
	b, err := fs.ReadFile(FS(), "music/hold.wav")
	require.NoError(t, err)
	secs := requirePCM16(t, "music/hold.wav", b)
	require.InDelta(t, 30, secs, 1)
}

func TestConfigAndFlowsEmbedded(t *testing.T) {
	_, err := fs.Stat(FS(), "config.yaml")
	require.NoError(t, err)
	st, err := fs.Stat(FS(), "flows")
	require.NoError(t, err)
	require.True(t, st.IsDir())
}

func TestAssetsStayModest(t *testing.T) {
	var total int64
	err := fs.WalkDir(FS(), "prompts", func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		total += info.Size()
		return err
	})
	require.NoError(t, err)
	// About 90 s of 8 kHz PCM16 speech per language: menus, the serial
	// read-back, ticket status and voicemail.
	require.Less(t, total, int64(4<<20), "prompts exceed 4 MB")
}

// embeddedPrompts is an ivr.PromptSet over the embedded prompt files.
type embeddedPrompts []string

func (p embeddedPrompts) Has(lang, name string) bool {
	_, err := fs.Stat(FS(), "prompts/"+lang+"/"+name+".wav")
	return err == nil
}

func (p embeddedPrompts) Languages() []string { return p }

func TestDemoFlowValidatesAgainstPrompts(t *testing.T) {
	flows, err := flowfile.LoadAll(FS(), map[string]string{"demo": "flows/demo.yaml"})
	require.NoError(t, err)
	require.NoError(t, ivr.Validate(flows, embeddedPrompts{"en", "ru"}))
}

func TestNoStrayPrompts(t *testing.T) {
	for _, lang := range []string{"en", "ru"} {
		entries, err := fs.ReadDir(FS(), "prompts/"+lang)
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
		}
		require.ElementsMatch(t, promptNames, names, lang)
	}
	require.Len(t, slices.Compact(slices.Sorted(slices.Values(promptNames))), len(promptNames), "no name twice")
}

func TestBeep(t *testing.T) {
	for _, lang := range []string{"en", "ru"} {
		b, err := fs.ReadFile(FS(), "prompts/"+lang+"/beep.wav")
		require.NoError(t, err)
		require.InDelta(t, 0.3, requirePCM16(t, lang+"/beep.wav", b), 0.01)
	}
}
