package loadkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModuleRoot returns the folder of the go.mod that goBin (the go command)
// sees from the current directory.
func ModuleRoot(ctx context.Context, goBin string) (string, error) {
	out, err := exec.CommandContext(ctx, goBin, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the hotline module: run from the repository")
	}
	return filepath.Dir(mod), nil
}

// BuildHotline compiles ./cmd/hotline of the module at root with goBin into
// dir and returns the binary's path.
func BuildHotline(ctx context.Context, goBin, root, dir string) (string, error) {
	bin := filepath.Join(dir, "hotline")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/hotline")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hotline: %w\n%s", err, out)
	}
	return bin, nil
}

// Workspace is one benchmark run's folders and hotline binary.
type Workspace struct {
	Root   string // the module root
	Dir    string // a temporary folder for the run, removed by Remove
	LogDir string // where logs are kept: the logs folder asked for, else Dir
	Bin    string // the hotline binary
}

// NewWorkspace finds the module root with goBin, makes a temporary folder
// named after prefix, makes logs (if not "") for the logs, and builds the
// hotline into the temporary folder unless bin names one already built.
// The caller removes the temporary folder with Remove.
func NewWorkspace(ctx context.Context, goBin, prefix, logs, bin string, log *slog.Logger) (*Workspace, error) {
	root, err := ModuleRoot(ctx, goBin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	w := &Workspace{Root: root, Dir: dir, LogDir: dir, Bin: bin}
	if logs != "" {
		if err := os.MkdirAll(logs, 0o755); err != nil {
			w.Remove()
			return nil, err
		}
		w.LogDir = logs
	}
	if w.Bin == "" {
		log.Info("building the hotline", "module", root)
		if w.Bin, err = BuildHotline(ctx, goBin, root, dir); err != nil {
			w.Remove()
			return nil, err
		}
	}
	return w, nil
}

// Remove deletes the run's temporary folder (not a logs folder given).
func (w *Workspace) Remove() error { return os.RemoveAll(w.Dir) }
