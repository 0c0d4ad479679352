package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session is a signed-in browser. It lives in the store, not in process
// memory, so it survives a restart and works on every node. The store keeps
// only the hash of the cookie's secret (see TokenHash).
type Session struct {
	Hash       string // TokenHash of the session cookie's value
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time // for the idle expiry; updated at most about once a minute
	ExpiresAt  time.Time // absolute expiry
	CSRF       string    // the token state-changing requests must echo in X-CSRF-Token
}

// SessionStore keeps sign-in sessions.
type SessionStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session with this hash, or ErrNotFound.
	GetSession(ctx context.Context, hash string) (Session, error)
	// TouchSession sets the session's LastSeenAt; ErrNotFound when it is gone.
	TouchSession(ctx context.Context, hash string, at time.Time) error
	// DeleteSession removes one session (signing out); a missing one is not an error.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteUserSessions removes every session of a user (password change, disable).
	DeleteUserSessions(ctx context.Context, userID string) error
	// DeleteExpiredSessions removes sessions whose ExpiresAt is not after
	// now and returns how many it removed.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

func validateSession(s Session) error {
	if s.Hash == "" || s.UserID == "" || s.CSRF == "" {
		return fmt.Errorf("store: session: hash, user id and csrf are required: %w", ErrRejected)
	}
	return nil
}

// --- SQLite ---

// CreateSession stores a new session.
func (s *SQLite) CreateSession(ctx context.Context, se Session) error {
	if err := validateSession(se); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at,
		expires_at, csrf) VALUES (?, ?, ?, ?, ?, ?)`, se.Hash, se.UserID, se.CreatedAt.UnixMicro(),
		se.LastSeenAt.UnixMicro(), se.ExpiresAt.UnixMicro(), se.CSRF)
	if err != nil {
		return fmt.Errorf("store: sqlite: create session for user %s: %w", se.UserID, err)
	}
	return nil
}

// GetSession returns the session with this hash.
func (s *SQLite) GetSession(ctx context.Context, hash string) (Session, error) {
	var (
		se                     Session
		created, seen, expires int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT token_hash, user_id, created_at, last_seen_at, expires_at, csrf
		FROM sessions WHERE token_hash = ?`, hash).Scan(&se.Hash, &se.UserID, &created, &seen, &expires, &se.CSRF)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: sqlite: get session: %w", err)
	}
	se.CreatedAt = time.UnixMicro(created).UTC()
	se.LastSeenAt = time.UnixMicro(seen).UTC()
	se.ExpiresAt = time.UnixMicro(expires).UTC()
	return se, nil
}

// TouchSession sets the session's LastSeenAt.
func (s *SQLite) TouchSession(ctx context.Context, hash string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`, at.UnixMicro(), hash)
	if err != nil {
		return fmt.Errorf("store: sqlite: touch session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: sqlite: touch session: %w", err)
	} else if n == 0 {
		return fmt.Errorf("store: session: %w", ErrNotFound)
	}
	return nil
}

// DeleteSession removes one session.
func (s *SQLite) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash); err != nil {
		return fmt.Errorf("store: sqlite: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions removes every session of a user.
func (s *SQLite) DeleteUserSessions(ctx context.Context, userID string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("store: sqlite: delete sessions of user %s: %w", userID, err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their absolute expiry.
func (s *SQLite) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("store: sqlite: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: sqlite: delete expired sessions: %w", err)
	}
	return int(n), nil
}

// --- PostgreSQL ---

// CreateSession stores a new session.
func (s *Postgres) CreateSession(ctx context.Context, se Session) error {
	if err := validateSession(se); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at,
		expires_at, csrf) VALUES ($1, $2, $3, $4, $5, $6)`, se.Hash, se.UserID, utcMicro(se.CreatedAt),
		utcMicro(se.LastSeenAt), utcMicro(se.ExpiresAt), se.CSRF)
	if err != nil {
		return fmt.Errorf("store: postgres: create session for user %s: %w", se.UserID, pgClassify(err))
	}
	return nil
}

// GetSession returns the session with this hash.
func (s *Postgres) GetSession(ctx context.Context, hash string) (Session, error) {
	var se Session
	err := s.pool.QueryRow(ctx, `SELECT token_hash, user_id, created_at, last_seen_at, expires_at, csrf
		FROM sessions WHERE token_hash = $1`, hash).Scan(&se.Hash, &se.UserID, &se.CreatedAt, &se.LastSeenAt,
		&se.ExpiresAt, &se.CSRF)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: postgres: get session: %w", err)
	}
	se.CreatedAt, se.LastSeenAt, se.ExpiresAt = se.CreatedAt.UTC(), se.LastSeenAt.UTC(), se.ExpiresAt.UTC()
	return se, nil
}

// TouchSession sets the session's LastSeenAt.
func (s *Postgres) TouchSession(ctx context.Context, hash string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2`, utcMicro(at), hash)
	if err != nil {
		return fmt.Errorf("store: postgres: touch session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: session: %w", ErrNotFound)
	}
	return nil
}

// DeleteSession removes one session.
func (s *Postgres) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash); err != nil {
		return fmt.Errorf("store: postgres: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions removes every session of a user.
func (s *Postgres) DeleteUserSessions(ctx context.Context, userID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("store: postgres: delete sessions of user %s: %w", userID, err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their absolute expiry.
func (s *Postgres) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, utcMicro(now))
	if err != nil {
		return 0, fmt.Errorf("store: postgres: delete expired sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
