package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// APIToken lets a script or helpdesk integration call the API with
// "Authorization: Bearer <token>". The store keeps only the token's hash.
type APIToken struct {
	ID         string // uuid string, chosen by the caller
	Name       string // unique, for people: "helpdesk", "nightly-report"
	Role       Role
	Hash       string // TokenHash of the secret
	CreatedAt  time.Time
	LastUsedAt *time.Time // nil until first used; updated at most about once a minute
	Disabled   bool
}

// TokenStore keeps API tokens.
type TokenStore interface {
	// CreateToken stores a new token; ErrConflict when the name is taken.
	CreateToken(ctx context.Context, t APIToken) error
	// GetToken returns the token with this hash, or ErrNotFound.
	GetToken(ctx context.Context, hash string) (APIToken, error)
	// TouchToken sets the token's LastUsedAt; ErrNotFound when it is gone.
	TouchToken(ctx context.Context, hash string, at time.Time) error
	// ListTokens returns every token ordered by name.
	ListTokens(ctx context.Context) ([]APIToken, error)
	// SetTokenDisabled disables or re-enables the named token; ErrNotFound
	// when there is none.
	SetTokenDisabled(ctx context.Context, name string, disabled bool) error
}

func validateToken(t APIToken) error {
	if t.ID == "" || t.Name == "" || t.Hash == "" {
		return fmt.Errorf("store: api token: id, name and hash are required: %w", ErrRejected)
	}
	if t.Role.rank() == 0 {
		return fmt.Errorf("store: api token %s: unknown role %q: %w", t.Name, t.Role, ErrRejected)
	}
	return nil
}

const tokenColumns = `id, name, role, token_hash, created_at, last_used_at, disabled`

// --- SQLite ---

// CreateToken stores a new token; ErrConflict when the name is taken.
func (s *SQLite) CreateToken(ctx context.Context, t APIToken) error {
	if err := validateToken(t); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO api_tokens (`+tokenColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		t.ID, t.Name, string(t.Role), t.Hash, t.CreatedAt.UnixMicro(), microsOrNil(t.LastUsedAt), boolInt(t.Disabled))
	if err != nil {
		return fmt.Errorf("store: sqlite: create token %s: %w", t.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: sqlite: create token %s: %w", t.Name, err)
	} else if n == 0 {
		return fmt.Errorf("store: api token %q: %w", t.Name, ErrConflict)
	}
	return nil
}

// GetToken returns the token with this hash.
func (s *SQLite) GetToken(ctx context.Context, hash string) (APIToken, error) {
	t, err := scanSQLiteToken(s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, fmt.Errorf("store: api token: %w", ErrNotFound)
	}
	return t, err
}

// TouchToken sets the token's LastUsedAt.
func (s *SQLite) TouchToken(ctx context.Context, hash string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?`, at.UnixMicro(), hash)
	if err != nil {
		return fmt.Errorf("store: sqlite: touch token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: sqlite: touch token: %w", err)
	} else if n == 0 {
		return fmt.Errorf("store: api token: %w", ErrNotFound)
	}
	return nil
}

// ListTokens returns every token ordered by name.
func (s *SQLite) ListTokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: list tokens: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []APIToken
	for rows.Next() {
		t, err := scanSQLiteToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sqlite: list tokens: %w", err)
	}
	return out, nil
}

// SetTokenDisabled disables or re-enables the named token.
func (s *SQLite) SetTokenDisabled(ctx context.Context, name string, disabled bool) error {
	res, err := s.w.ExecContext(ctx, `UPDATE api_tokens SET disabled = ? WHERE name = ?`, boolInt(disabled), name)
	if err != nil {
		return fmt.Errorf("store: sqlite: disable token %s: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: sqlite: disable token %s: %w", name, err)
	} else if n == 0 {
		return fmt.Errorf("store: api token %q: %w", name, ErrNotFound)
	}
	return nil
}

func scanSQLiteToken(r rowScanner) (APIToken, error) {
	var (
		t        APIToken
		role     string
		created  int64
		used     sql.NullInt64
		disabled int
	)
	err := r.Scan(&t.ID, &t.Name, &role, &t.Hash, &created, &used, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, err
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("store: sqlite: scan token: %w", err)
	}
	t.Role, t.Disabled = Role(role), disabled != 0
	t.CreatedAt, t.LastUsedAt = time.UnixMicro(created).UTC(), timeOrNil(used)
	return t, nil
}

// --- PostgreSQL ---

// CreateToken stores a new token; ErrConflict when the name is taken.
func (s *Postgres) CreateToken(ctx context.Context, t APIToken) error {
	if err := validateToken(t); err != nil {
		return err
	}
	var used *time.Time
	if t.LastUsedAt != nil {
		u := utcMicro(*t.LastUsedAt)
		used = &u
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO api_tokens (`+tokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		t.ID, t.Name, string(t.Role), t.Hash, utcMicro(t.CreatedAt), used, t.Disabled)
	if err != nil {
		return fmt.Errorf("store: postgres: create token %s: %w", t.Name, pgClassify(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: api token %q: %w", t.Name, ErrConflict)
	}
	return nil
}

// GetToken returns the token with this hash.
func (s *Postgres) GetToken(ctx context.Context, hash string) (APIToken, error) {
	t, err := scanPgToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return APIToken{}, fmt.Errorf("store: api token: %w", ErrNotFound)
	}
	return t, err
}

// TouchToken sets the token's LastUsedAt.
func (s *Postgres) TouchToken(ctx context.Context, hash string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2`, utcMicro(at), hash)
	if err != nil {
		return fmt.Errorf("store: postgres: touch token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: api token: %w", ErrNotFound)
	}
	return nil
}

// ListTokens returns every token ordered by name.
func (s *Postgres) ListTokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: list tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		t, err := scanPgToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: postgres: list tokens: %w", err)
	}
	return out, nil
}

// SetTokenDisabled disables or re-enables the named token.
func (s *Postgres) SetTokenDisabled(ctx context.Context, name string, disabled bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET disabled = $1 WHERE name = $2`, disabled, name)
	if err != nil {
		return fmt.Errorf("store: postgres: disable token %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: api token %q: %w", name, ErrNotFound)
	}
	return nil
}

func scanPgToken(r pgx.Row) (APIToken, error) {
	var (
		t    APIToken
		role string
	)
	err := r.Scan(&t.ID, &t.Name, &role, &t.Hash, &t.CreatedAt, &t.LastUsedAt, &t.Disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return APIToken{}, err
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("store: postgres: scan token: %w", err)
	}
	t.Role = Role(role)
	t.CreatedAt = t.CreatedAt.UTC()
	if t.LastUsedAt != nil {
		u := t.LastUsedAt.UTC()
		t.LastUsedAt = &u
	}
	return t, nil
}
