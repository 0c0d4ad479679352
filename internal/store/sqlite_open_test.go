package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Several processes opening a new database at once (`hotline user add` run
// in parallel, or beside a starting server) all succeed: the one that turns
// the file to WAL mode does not make the others fail with SQLITE_BUSY.
func TestSQLiteConcurrentFirstOpen(t *testing.T) {
	for round := range 5 {
		path := filepath.Join(t.TempDir(), "hotline.db")
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				s, err := OpenSQLite(context.Background(), path, nil)
				if err == nil {
					err = s.Migrate(context.Background())
					_ = s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "round %d, opener %d", round, i)
		}
	}
}
