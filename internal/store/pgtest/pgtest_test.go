package pgtest_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store/pgtest"
)

func TestServerSurvivesRestart(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.CreateDB(t)
	ctx := t.Context()

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)`)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))

	srv.Restart(t)

	conn, err = pgx.Connect(ctx, url)
	require.NoError(t, err, "server must accept connections on the same URL after a restart")
	defer func() { _ = conn.Close(ctx) }()
	var v int
	require.NoError(t, conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v))
	require.Equal(t, 42, v, "data must survive a restart")

	other := srv.CreateDB(t)
	require.NotEqual(t, url, other, "each CreateDB gives a fresh database")
}

func TestStopIsIdempotent(t *testing.T) {
	srv := pgtest.Start(t)
	srv.Stop()
	srv.Stop()
}

func TestMissingBinariesSayWhatToInstall(t *testing.T) {
	t.Setenv("HOTLINE_PG_BIN", t.TempDir())
	_, err := pgtest.New()
	require.ErrorContains(t, err, "has no initdb and pg_ctl")
}
