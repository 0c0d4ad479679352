package demo

import (
	"encoding/binary"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"
)

// promptNames lists every prompt the demo flow may ask for.
var promptNames = []string{
	"welcome", "choose-language", "main-menu", "enter-serial", "you-entered",
	"enter-ticket", "invalid", "no-input", "goodbye", "connecting", "closed",
	"digit-0", "digit-1", "digit-2", "digit-3", "digit-4",
	"digit-5", "digit-6", "digit-7", "digit-8", "digit-9", "star", "hash",
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
	require.Less(t, total, int64(3<<20), "prompts exceed 3 MB")
}
