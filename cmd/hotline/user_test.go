package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/store"
)

// runCmd runs the hotline command line with args against the data dir.
func runCmd(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(t.Context(), append(args, "--data", dir), &out, &errb)
	return out.String(), errb.String(), err
}

// openTestStore opens the store the commands wrote, after they finished.
func openTestStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), store.Config{DataDir: dir}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(t.Context()))
	return st
}

var printedPassword = regexp.MustCompile(`(?m)^password: (\S+)$`)

func TestUserAddListDisable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, _, err := runCmd(t, dir, "user", "add", "--username", "anna", "--name", "Anna Petrova",
		"--skills", "support=3,billing=1", "--language", "ru")
	require.NoError(t, err)
	require.Contains(t, out, `created agent "anna" (Anna Petrova)`)
	m := printedPassword.FindStringSubmatch(out)
	require.NotNil(t, m, "a random password is printed once: %q", out)
	password := m[1]

	_, _, err = runCmd(t, dir, "user", "add", "--username", "sam", "--role", "supervisor")
	require.NoError(t, err)
	_, _, err = runCmd(t, dir, "user", "add", "--username", "ANNA")
	require.ErrorContains(t, err, `a user named "ANNA" already exists`)
	_, _, err = runCmd(t, dir, "user", "add", "--username", "x", "--role", "root")
	require.ErrorContains(t, err, "unknown role")
	_, _, err = runCmd(t, dir, "user", "add", "--username", "x", "--skills", "support=high")
	require.ErrorContains(t, err, "level must be")
	_, _, err = runCmd(t, dir, "user", "add", "--username", "has space")
	require.ErrorContains(t, err, "only letters")

	out, _, err = runCmd(t, dir, "user", "list")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	require.Regexp(t, `^USERNAME\s+NAME\s+ROLE\s+SKILLS\s+LANGUAGE\s+STATUS$`, lines[0])
	require.Regexp(t, `^anna\s+Anna Petrova\s+agent\s+billing=1,support=3\s+ru\s+active$`, lines[1])
	require.Regexp(t, `^sam\s+sam\s+supervisor\s+-\s+-\s+active$`, lines[2])

	st := openTestStore(t, dir)
	u, err := st.FindUser(t.Context(), "anna")
	require.NoError(t, err)
	require.True(t, httpapi.CheckPassword(u.PasswordHash, password), "the printed password signs in")
	require.NotContains(t, u.PasswordHash, password)
	require.NoError(t, st.CreateSession(t.Context(), store.Session{Hash: "h", UserID: u.ID, CreatedAt: u.CreatedAt,
		LastSeenAt: u.CreatedAt, ExpiresAt: u.CreatedAt.Add(time.Hour), CSRF: "c"}))
	require.NoError(t, st.Close())

	out, _, err = runCmd(t, dir, "user", "disable", "anna")
	require.NoError(t, err)
	require.Contains(t, out, "disabled and signed out")
	out, _, err = runCmd(t, dir, "user", "list")
	require.NoError(t, err)
	require.Regexp(t, `(?m)^anna\s.*\sdisabled$`, out)
	st = openTestStore(t, dir)
	_, err = st.GetSession(t.Context(), "h")
	require.ErrorIs(t, err, store.ErrNotFound, "a disabled user's sessions end")
	require.NoError(t, st.Close())

	_, _, err = runCmd(t, dir, "user", "enable", "anna")
	require.NoError(t, err)
	_, _, err = runCmd(t, dir, "user", "disable", "nobody")
	require.ErrorContains(t, err, `no user named "nobody"`)
}

func TestUserPasswd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, _, err := runCmd(t, dir, "user", "add", "--username", "boris")
	require.NoError(t, err)

	var out, errb bytes.Buffer
	err = userCmd(t.Context(), []string{"passwd", "boris", "--data", dir, "--password-stdin"},
		strings.NewReader("new secret pass\n"), &out, &errb)
	require.NoError(t, err, errb.String())
	require.Contains(t, out.String(), `password of "boris" changed`)
	require.NotContains(t, out.String(), "new secret pass", "a password from stdin is not echoed")

	st := openTestStore(t, dir)
	u, err := st.FindUser(t.Context(), "boris")
	require.NoError(t, err)
	require.True(t, httpapi.CheckPassword(u.PasswordHash, "new secret pass"))
	require.NoError(t, st.Close())

	err = userCmd(t.Context(), []string{"passwd", "--data", dir, "--password-stdin", "boris"},
		strings.NewReader("short\n"), &out, &errb)
	require.ErrorContains(t, err, "at least 8")

	stdout, _, err := runCmd(t, dir, "user", "passwd", "boris")
	require.NoError(t, err)
	require.Regexp(t, printedPassword, stdout, "without stdin a random password is printed")

	_, stderr, err := runCmd(t, dir, "user", "passwd")
	require.Error(t, err)
	require.Contains(t, stderr, "want 1 username")
	require.Equal(t, 2, exitCode(err), "a usage mistake exits 2")
}

func TestUserAddPasswordFromStdin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out, errb bytes.Buffer
	err := userCmd(t.Context(), []string{"add", "--data", dir, "--username", "anna", "--role", "admin",
		"--password-stdin"}, strings.NewReader("correct horse battery\r\n"), &out, &errb)
	require.NoError(t, err, errb.String())
	require.NotContains(t, out.String(), "password:")
	st := openTestStore(t, dir)
	u, err := st.FindUser(t.Context(), "anna")
	require.NoError(t, err)
	require.Equal(t, store.RoleAdmin, u.Role)
	require.True(t, httpapi.CheckPassword(u.PasswordHash, "correct horse battery"))
}

func TestEnsureDemoUsers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	st := openTestStore(t, dir)
	ctx := context.Background()
	var out bytes.Buffer
	require.NoError(t, ensureDemoUsers(ctx, st, dir, &out))

	file := filepath.Join(dir, DemoCredentialsFile)
	info, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "only the owner may read the passwords")
	body, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Contains(t, out.String(), string(body), "the same accounts are printed and written")

	users, err := st.ListUsers(ctx)
	require.NoError(t, err)
	require.Len(t, users, 3)
	roles := map[string]store.Role{}
	for _, u := range users {
		roles[u.Username] = u.Role
		m := regexp.MustCompile(`(?m)^` + u.Username + `\s+\S+\s+(\S+)$`).FindStringSubmatch(string(body))
		require.NotNil(t, m, "%s is in the file", u.Username)
		require.True(t, httpapi.CheckPassword(u.PasswordHash, m[1]), "%s's printed password works", u.Username)
	}
	require.Equal(t, map[string]store.Role{"anna": store.RoleAgent, "boris": store.RoleAgent, "sam": store.RoleSupervisor}, roles)
	require.NotEmpty(t, users[0].Skills, "agents have skills")

	// The second start finds users and leaves everything alone.
	out.Reset()
	require.NoError(t, ensureDemoUsers(ctx, st, dir, &out))
	require.Empty(t, out.String())
	again, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, body, again)

	// A second demo elsewhere gets different passwords: nothing is built in.
	dir2 := filepath.Join(t.TempDir(), "data")
	st2 := openTestStore(t, dir2)
	require.NoError(t, ensureDemoUsers(ctx, st2, dir2, &out))
	body2, err := os.ReadFile(filepath.Join(dir2, DemoCredentialsFile))
	require.NoError(t, err)
	require.NotEqual(t, body, body2)
}

func TestTokenCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, _, err := runCmd(t, dir, "token", "create", "--name", "helpdesk", "--role", "supervisor")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^(hl_\S+)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "the token is printed once: %q", out)
	secret := m[1]

	_, _, err = runCmd(t, dir, "token", "create", "--name", "helpdesk", "--role", "agent")
	require.ErrorContains(t, err, "already exists")
	_, _, err = runCmd(t, dir, "token", "create", "--name", "x", "--role", "boss")
	require.ErrorContains(t, err, "unknown role")
	_, _, err = runCmd(t, dir, "token", "create", "--role", "agent")
	require.ErrorContains(t, err, "--name is required")

	st := openTestStore(t, dir)
	tok, err := st.GetToken(t.Context(), store.TokenHash(secret))
	require.NoError(t, err, "the store finds the token by its hash")
	require.Equal(t, "helpdesk", tok.Name)
	require.Equal(t, store.RoleSupervisor, tok.Role)
	require.NotEqual(t, secret, tok.Hash, "only the hash is stored")
	require.NoError(t, st.Close())
	files, err := filepath.Glob(filepath.Join(dir, "hotline.db*")) // with WAL and SHM files
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NotContains(t, string(raw), secret, "the token itself is nowhere in %s", f)
	}

	out, _, err = runCmd(t, dir, "token", "disable", "helpdesk")
	require.NoError(t, err)
	require.Contains(t, out, `token "helpdesk" disabled`)
	out, _, err = runCmd(t, dir, "token", "list")
	require.NoError(t, err)
	require.Regexp(t, `(?m)^helpdesk\s+supervisor\s.*never\s+disabled$`, out)
	require.NotContains(t, out, secret)
}

// FuzzParseSkills: --skills either fails with a message or gives levels
// from 0 to 100 under non-empty names, which format back to an equal map
// (as `user list` shows them).
func FuzzParseSkills(f *testing.F) {
	for _, s := range []string{"support=3,billing=1", "", " a = 1 , b=0", "a=101", "a=1,a=2", "=3", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseSkills(s)
		if err != nil {
			require.Nil(t, m)
			return
		}
		for k, v := range m {
			require.NotEmpty(t, k)
			require.True(t, v >= 0 && v <= 100)
		}
		again, err := parseSkills(formatSkills(m))
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}
