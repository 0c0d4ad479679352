package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/store"
)

const userUsage = `usage: hotline user <command> [flags]

commands:
  add --username U [--name N] [--role agent|supervisor|admin] [--skills a=3,b=1] [--language L] [--password-stdin]
              create a user; without --password-stdin a random password is printed once
  passwd U [--password-stdin]
              set a new password (random, printed once, or read from stdin); signs the user out everywhere
  list        list users
  disable U   stop U from signing in and end their sessions
  enable U    let a disabled user sign in again

every command also takes --config FILE, --data DIR and --database URL to find the store
`

// userCmd manages the people who sign in: hotline user add|passwd|list|disable|enable.
// A password read with --password-stdin is the first line of stdin.
func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, userUsage)
		if len(args) == 0 {
			return usageError{errors.New("user: no command")}
		}
		return nil
	}
	fl := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o overrides
	o.register(fl, false)
	var (
		username, name, role, skills, language string
		pwStdin                                bool
	)
	switch args[0] {
	case "add":
		fl.StringVar(&username, "username", "", "sign-in `NAME` (letters, digits, . _ - @)")
		fl.StringVar(&name, "name", "", "display `NAME` (default: the username)")
		fl.StringVar(&role, "role", "agent", "`ROLE`: agent, supervisor or admin")
		fl.StringVar(&skills, "skills", "", "skill levels, `skill=level,...` (e.g. support=3,billing=1)")
		fl.StringVar(&language, "language", "", "preferred UI `LANG` (en, ru; default: the browser's)")
		fl.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin")
	case "passwd":
		fl.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin")
	case "list", "disable", "enable":
	default:
		fmt.Fprintf(stderr, "hotline user: unknown command %q\n%s", args[0], userUsage)
		return usageError{fmt.Errorf("user: unknown command %q", args[0])}
	}
	pos, err := parseInterleaved(fl, args[1:])
	if err != nil {
		return usageError{err}
	}
	wantPos := map[string]int{"add": 0, "list": 0, "passwd": 1, "disable": 1, "enable": 1}[args[0]]
	if len(pos) != wantPos {
		fmt.Fprintf(stderr, "hotline user %s: want %d username argument(s), got %d\n", args[0], wantPos, len(pos))
		return usageError{fmt.Errorf("user %s: wrong number of arguments", args[0])}
	}

	st, err := openStore(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	switch args[0] {
	case "add":
		return userAdd(ctx, st, userSpec{username: username, name: name, role: role, skills: skills,
			language: language}, pwStdin, stdin, stdout)
	case "passwd":
		return userPasswd(ctx, st, pos[0], pwStdin, stdin, stdout)
	case "list":
		return userList(ctx, st, stdout)
	default:
		return userSetDisabled(ctx, st, pos[0], args[0] == "disable", stdout)
	}
}

// parseInterleaved parses flags that may come before, between or after
// positional arguments (Go's flag package stops at the first positional).
func parseInterleaved(fl *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		args = fl.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// openStore opens and migrates the configured store, as migrate does.
func openStore(ctx context.Context, o overrides, stderr io.Writer) (store.Store, error) {
	cfg, _, err := loadConfig(o)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.Store, newLogger(cfg.Log, stderr))
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// userSpec is what `user add` is told about a new user.
type userSpec struct {
	username, name, role, skills, language string
}

func userAdd(ctx context.Context, st store.UserStore, spec userSpec, pwStdin bool, stdin io.Reader, stdout io.Writer) error {
	if err := store.ValidUsername(spec.username); err != nil {
		return fmt.Errorf("user add: --username: %w", err)
	}
	role, err := store.ParseRole(spec.role)
	if err != nil {
		return fmt.Errorf("user add: --role: %w", err)
	}
	skills, err := parseSkills(spec.skills)
	if err != nil {
		return fmt.Errorf("user add: --skills: %w", err)
	}
	if spec.name == "" {
		spec.name = spec.username
	}
	password, generated, err := newPassword(pwStdin, stdin)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	u, err := newUser(spec.username, spec.name, role, skills, spec.language, password)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	if err := st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("user add: a user named %q already exists", spec.username)
		}
		return fmt.Errorf("user add: %w", err)
	}
	fmt.Fprintf(stdout, "created %s %q (%s)\n", u.Role, u.Username, u.Name)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown only now; change it with: hotline user passwd %s)\n", password, u.Username)
	}
	return nil
}

func newUser(username, name string, role store.Role, skills map[string]int, language, password string) (store.User, error) {
	hash, err := httpapi.HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return store.User{}, err
	}
	now := time.Now()
	return store.User{ID: id.String(), Username: username, Name: name, Role: role, PasswordHash: hash,
		Skills: skills, Language: language, CreatedAt: now, UpdatedAt: now}, nil
}

// newPassword reads the password from stdin's first line, or generates one.
func newPassword(fromStdin bool, stdin io.Reader) (password string, generated bool, err error) {
	if !fromStdin {
		p, err := httpapi.GeneratePassword()
		return p, true, err
	}
	if stdin == nil {
		return "", false, errors.New("--password-stdin: no standard input")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("--password-stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", false, errors.New("--password-stdin: standard input is empty")
	}
	return line, false, nil
}

// parseSkills reads "support=3,billing=1" (levels 0 to 100).
func parseSkills(s string) (map[string]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want skill=level", part)
		}
		if strings.IndexFunc(k, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '.'
		}) >= 0 {
			return nil, fmt.Errorf("%q: a skill name has only letters, digits and _ - .", part)
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > 100 {
			return nil, fmt.Errorf("%q: level must be a whole number from 0 to 100", part)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("skill %q given twice", k)
		}
		out[k] = n
	}
	return out, nil
}

func formatSkills(s map[string]int) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Itoa(s[k])
	}
	return strings.Join(parts, ",")
}

// userStore is what the user commands need: users and their sessions.
type userStore interface {
	store.UserStore
	DeleteUserSessions(ctx context.Context, userID string) error
}

func userPasswd(ctx context.Context, st userStore, username string, pwStdin bool, stdin io.Reader, stdout io.Writer) error {
	u, err := findUser(ctx, st, username)
	if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	password, generated, err := newPassword(pwStdin, stdin)
	if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	if u.PasswordHash, err = httpapi.HashPassword(password); err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	u.UpdatedAt = time.Now()
	if err := st.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	if err := st.DeleteUserSessions(ctx, u.ID); err != nil {
		return fmt.Errorf("user passwd: password changed, but signing out old sessions failed: %w", err)
	}
	fmt.Fprintf(stdout, "password of %q changed; their sessions are ended\n", u.Username)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown only now)\n", password)
	}
	return nil
}

func userSetDisabled(ctx context.Context, st userStore, username string, disabled bool, stdout io.Writer) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disabled]
	u, err := findUser(ctx, st, username)
	if err != nil {
		return fmt.Errorf("user %s: %w", verb, err)
	}
	u.Disabled, u.UpdatedAt = disabled, time.Now()
	if err := st.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("user %s: %w", verb, err)
	}
	if disabled {
		if err := st.DeleteUserSessions(ctx, u.ID); err != nil {
			return fmt.Errorf("user disable: disabled, but ending their sessions failed: %w", err)
		}
		fmt.Fprintf(stdout, "%q is disabled and signed out\n", u.Username)
		return nil
	}
	fmt.Fprintf(stdout, "%q may sign in again\n", u.Username)
	return nil
}

func findUser(ctx context.Context, st store.UserStore, username string) (store.User, error) {
	u, err := st.FindUser(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("no user named %q", username)
	}
	return u, err
}

func userList(ctx context.Context, st store.UserStore, stdout io.Writer) error {
	users, err := st.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("user list: %w", err)
	}
	if len(users) == 0 {
		fmt.Fprintln(stdout, "no users yet; add one with: hotline user add --username NAME --role agent")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tNAME\tROLE\tSKILLS\tLANGUAGE\tSTATUS")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.Name, u.Role, dash(formatSkills(u.Skills)),
			dash(u.Language), status)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// demoUsers are the accounts the built-in demo creates on first start.
var demoUsers = []struct {
	username, name string
	role           store.Role
	skills         map[string]int
	language       string
}{
	{"anna", "Anna", store.RoleAgent, map[string]int{"support": 3, "billing": 1, "operator": 1}, "en"},
	{"boris", "Boris", store.RoleAgent, map[string]int{"support": 1, "billing": 3, "operator": 1}, "ru"},
	{"sam", "Sam", store.RoleSupervisor, nil, "en"},
}

// DemoCredentialsFile is the name, under the data directory, of the file
// holding the demo accounts' passwords (mode 0600).
const DemoCredentialsFile = "demo-credentials.txt"

// ensureDemoUsers gives the built-in demo its people: when the store has no
// users yet, it creates agents anna and boris and supervisor sam, each with
// a random password, prints the passwords once to out and writes them to
// <dataDir>/demo-credentials.txt (mode 0600). With users already present it
// does nothing. There is no fixed built-in password.
func ensureDemoUsers(ctx context.Context, st store.UserStore, dataDir string, out io.Writer) error {
	existing, err := st.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("demo users: %w", err)
	}
	if len(existing) > 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("# hotline demo accounts, created on first start. Change with: hotline user passwd NAME\n")
	created := 0
	for _, d := range demoUsers {
		password, err := httpapi.GeneratePassword()
		if err != nil {
			return fmt.Errorf("demo users: %w", err)
		}
		u, err := newUser(d.username, d.name, d.role, d.skills, d.language, password)
		if err != nil {
			return fmt.Errorf("demo users: %w", err)
		}
		if err := st.CreateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				continue // another node created it first; its password is not ours to show
			}
			return fmt.Errorf("demo users: %w", err)
		}
		created++
		fmt.Fprintf(&b, "%-6s %-10s %s\n", u.Username, u.Role, password)
	}
	if created == 0 {
		return nil
	}
	where := ""
	if dataDir != "" {
		where = filepath.Join(dataDir, DemoCredentialsFile)
	}
	fmt.Fprintf(out, "Demo accounts (passwords shown once; also in %s):\n%s", dash(where), b.String())
	if where == "" {
		return nil
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return fmt.Errorf("demo users: %w", err)
	}
	if err := writeSecretFile(where, []byte(b.String())); err != nil {
		return fmt.Errorf("demo users: %w", err)
	}
	return nil
}

// writeSecretFile writes data to path readable by the owner only, also when
// the file already existed with wider permissions.
func writeSecretFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
