package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/store/pgtest"
	"github.com/hotline/hotline/internal/store/storetest"
)

// One PostgreSQL server is shared by the tests of this binary (started on
// first use, stopped by TestMain); each test gets its own database.
var (
	pgOnce   sync.Once
	pgShared *pgtest.Server
	pgErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pgShared != nil {
		pgShared.Stop()
	}
	os.Exit(code)
}

func sharedPG(t *testing.T) *pgtest.Server {
	t.Helper()
	pgOnce.Do(func() { pgShared, pgErr = pgtest.New() })
	require.NoError(t, pgErr, "pgtest: private PostgreSQL server")
	return pgShared
}

// openPG returns an unmigrated Postgres store on a fresh database.
func openPG(t *testing.T) *store.Postgres {
	t.Helper()
	url := sharedPG(t).CreateDB(t)
	s, err := store.OpenPostgres(t.Context(), url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSQLiteContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.Open(t.Context(), store.Config{DataDir: filepath.Join(t.TempDir(), "data")}, nil)
		require.NoError(t, err)
		return s
	})
}

func TestPostgresContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.Open(t.Context(), store.Config{Database: sharedPG(t).CreateDB(t)}, nil)
		require.NoError(t, err)
		return s
	})
}

func TestOpenSQLiteCreatesDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s, err := store.Open(t.Context(), store.Config{DataDir: dir}, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Migrate(t.Context()))
	require.FileExists(t, filepath.Join(dir, "hotline.db"))
}

func TestOpenSQLitePathURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "calls.db")
	s, err := store.Open(t.Context(), store.Config{Database: "sqlite:" + path}, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Migrate(t.Context()))
	require.FileExists(t, path)
}

func TestSQLiteDataSurvivesReopen(t *testing.T) {
	cfg := store.Config{DataDir: t.TempDir()}
	s, err := store.Open(t.Context(), cfg, nil)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	require.NoError(t, s.SaveCall(t.Context(), storetest.SampleCall("kept", fixedTime)))
	require.NoError(t, s.Close())

	s, err = store.Open(t.Context(), cfg, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Migrate(t.Context()))
	_, _, err = s.GetCall(t.Context(), "kept")
	require.NoError(t, err)
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  store.Config
		want string
	}{
		{"no data dir", store.Config{}, "data_dir is empty"},
		{"unknown scheme", store.Config{Database: "mysql://user:secret@host/db"}, "unsupported database"},
		{"empty sqlite path", store.Config{Database: "sqlite:"}, "empty path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Open(t.Context(), tc.cfg, nil)
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "secret", "passwords never appear in errors")
		})
	}
}

func TestOpenPostgresUnreachable(t *testing.T) {
	bad := fmt.Sprintf("postgres://postgres:secret@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", closedPort(t))
	_, err := store.Open(t.Context(), store.Config{Database: bad}, nil)
	require.ErrorContains(t, err, "127.0.0.1")
	require.NotContains(t, err.Error(), "secret", "passwords never appear in errors")
}

func TestPostgresRejectsUnstorableText(t *testing.T) {
	s := openPG(t)
	require.NoError(t, s.Migrate(t.Context()))
	c := storetest.SampleCall("nul", fixedTime)
	c.From = "evil\x00caller"
	require.ErrorIs(t, s.SaveCall(t.Context(), c), store.ErrRejected,
		"PostgreSQL cannot store NUL in text; the error says retrying is pointless")
	require.NoError(t, s.Ping(t.Context()))
}
