package loadkit

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewWorkspaceWithABinaryAndLogs(t *testing.T) {
	logs := filepath.Join(t.TempDir(), "logs")
	w, err := NewWorkspace(context.Background(), "go", "loadkit-test-", logs, "/bin/true", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(w.Root, "go.mod"))
	require.Equal(t, "/bin/true", w.Bin)
	require.Equal(t, logs, w.LogDir)
	require.DirExists(t, w.Dir)
	require.NoError(t, w.Remove())
	_, err = os.Stat(w.Dir)
	require.True(t, os.IsNotExist(err))
	require.DirExists(t, logs)
}
