// Package pgtest runs a private PostgreSQL server for tests: its own data
// directory in a temp dir, listening only on 127.0.0.1 at a free port, with
// its unix socket inside the temp dir. It needs the PostgreSQL server
// binaries (initdb, pg_ctl): Debian's postgresql package puts them in
// /usr/lib/postgresql/<version>/bin; HOTLINE_PG_BIN overrides the search.
// When the tests run as root, the server runs as the postgres user, since
// initdb refuses to run as root.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is one private PostgreSQL server.
type Server struct {
	bin     string // directory holding initdb and pg_ctl
	dir     string // temp dir owned by the server's user
	data    string
	sock    string
	logFile string
	port    int
	runAs   string // "postgres" when we are root, else ""

	mu       sync.Mutex
	running  bool
	stopOnce sync.Once
	dbSeq    atomic.Int64
}

// startTimeout bounds pg_ctl start and stop.
const startTimeout = 60 * time.Second

// Start starts a server for tb and stops it when tb ends. It fails tb with a
// clear message when the PostgreSQL binaries are missing or the server does
// not start.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// New initializes and starts a server without a testing.TB, for sharing one
// server across a test binary from TestMain. The caller must call Stop.
func New() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		s.runAs = "postgres"
	}
	if err := s.init(); err != nil {
		s.removeDir()
		return nil, err
	}
	if err := s.start(); err != nil {
		s.removeDir()
		return nil, err
	}
	return s, nil
}

// findBin locates initdb and pg_ctl: $HOTLINE_PG_BIN, the newest
// /usr/lib/postgresql/*/bin, then $PATH.
func findBin() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv("HOTLINE_PG_BIN"); dir != "" {
		if has(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("HOTLINE_PG_BIN=%s has no initdb and pg_ctl", dir)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin " +
		"or $PATH; install them (Debian: apt-get install postgresql) or set HOTLINE_PG_BIN")
}

// pgVersion reads the major version from /usr/lib/postgresql/<v>/bin.
func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// init makes the temp dir (owned by the server's user) and runs initdb.
func (s *Server) init() error {
	dir, err := os.MkdirTemp("", "hotline-pgtest-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	s.dir = dir
	s.data = filepath.Join(dir, "data")
	s.sock = filepath.Join(dir, "sock")
	s.logFile = filepath.Join(dir, "postgres.log")
	if err := os.Mkdir(s.sock, 0o700); err != nil {
		return fmt.Errorf("socket dir: %w", err)
	}
	if s.runAs != "" {
		u, err := user.Lookup(s.runAs)
		if err != nil {
			return fmt.Errorf("running as root, and initdb refuses root: need the %q user: %w", s.runAs, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, s.sock} {
			if err := os.Chown(p, uid, gid); err != nil {
				return fmt.Errorf("chown %s to %s: %w", p, s.runAs, err)
			}
		}
	}
	out, err := s.command("initdb", "-D", s.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// command runs one of the server binaries as the server's user, in its dir.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd
}

// start picks a port the first time and starts the server, waiting until it
// accepts connections.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil
	}
	if s.port == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		s.port = p
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s "+
		"-c fsync=off -c synchronous_commit=off -c full_page_writes=off", s.port, s.sock)
	out, err := s.command("pg_ctl", "-D", s.data, "-l", s.logFile, "-w", "-t",
		strconv.Itoa(int(startTimeout.Seconds())), "-o", opts, "start").CombinedOutput()
	if err != nil {
		logText, _ := os.ReadFile(s.logFile)
		return fmt.Errorf("pg_ctl start: %w\n%s\nserver log:\n%s", err, out, logText)
	}
	s.running = true
	return nil
}

// stop stops the server ("fast": active sessions are disconnected).
func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return nil
	}
	out, err := s.command("pg_ctl", "-D", s.data, "-m", "fast", "-w", "-t",
		strconv.Itoa(int(startTimeout.Seconds())), "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	s.running = false
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the connection URL of database db on this server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// CreateDB creates a fresh, empty database and returns its URL.
func (s *Server) CreateDB(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), s.dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return s.URL(name)
}

// Halt stops the server, keeping its data; Resume starts it again on the
// same port.
func (s *Server) Halt(tb testing.TB) {
	tb.Helper()
	if err := s.stop(); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
}

// Resume starts a halted server again, with the same data and port.
func (s *Server) Resume(tb testing.TB) {
	tb.Helper()
	if err := s.start(); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
}

// Restart stops and starts the server, keeping its data and port.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Halt(tb)
	s.Resume(tb)
}

// Stop stops the server and removes its files. It is idempotent.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if err := s.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", strings.TrimSpace(err.Error()))
		}
		s.removeDir()
	})
}

func (s *Server) removeDir() {
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}
