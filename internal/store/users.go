package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// ErrConflict is returned when a record would take a unique name that is
// already taken: a username (compared case-insensitively) or a token name.
var ErrConflict = errors.New("store: already exists")

// Role is what a person or API token may do. Roles are ordered:
// agent < supervisor < admin; a higher role may do everything a lower one may.
type Role string

// The roles, lowest first.
const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// ParseRole returns the role named s, or an error naming the valid roles.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r.rank() == 0 {
		return "", fmt.Errorf("unknown role %q (want agent, supervisor or admin)", s)
	}
	return r, nil
}

// AtLeast reports whether r is min or a higher role. An unknown role is never
// at least anything.
func (r Role) AtLeast(min Role) bool {
	return r.rank() > 0 && r.rank() >= min.rank()
}

func (r Role) rank() int {
	switch r {
	case RoleAgent:
		return 1
	case RoleSupervisor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// MaxUsernameLen bounds a username, in characters.
const MaxUsernameLen = 64

// ValidUsername checks that s can be a username: 1 to MaxUsernameLen
// letters, digits and . _ - @, no spaces.
func ValidUsername(s string) error {
	if s == "" {
		return errors.New("username is empty")
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxUsernameLen {
		return fmt.Errorf("username must be at most %d characters of valid text", MaxUsernameLen)
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@", r) {
			return fmt.Errorf("username %q: only letters, digits and . _ - @ are allowed", s)
		}
	}
	return nil
}

// User is a person who signs in: an agent, supervisor or admin.
type User struct {
	ID           string // uuid string, chosen by the caller
	Username     string // sign-in name, unique case-insensitively; fixed once created
	Name         string // display name
	Role         Role
	PasswordHash string         // bcrypt hash; never the password
	Skills       map[string]int // skill → level; nil when none
	Language     string         // preferred UI language ("en", "ru"); "" = the browser's
	Disabled     bool           // a disabled user cannot sign in and loses their sessions
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// UserStore keeps users. Users are never deleted, only disabled, so calls and
// agent events keep pointing at someone.
type UserStore interface {
	// CreateUser stores a new user; ErrConflict when the username is taken.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser replaces the user with u.ID (everything but Username and
	// CreatedAt); ErrNotFound when there is none.
	UpdateUser(ctx context.Context, u User) error
	// GetUser returns the user with id, or ErrNotFound.
	GetUser(ctx context.Context, id string) (User, error)
	// FindUser returns the user whose username equals username ignoring
	// case, or ErrNotFound.
	FindUser(ctx context.Context, username string) (User, error)
	// ListUsers returns every user ordered by username.
	ListUsers(ctx context.Context) ([]User, error)
}

// TokenHash is what the store keeps of a session or API token: the
// hex SHA-256 of the secret the client holds.
func TokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func usernameKey(username string) string { return strings.ToLower(username) }

func normalizeUser(u User) User {
	u.CreatedAt = utcMicro(u.CreatedAt)
	u.UpdatedAt = utcMicro(u.UpdatedAt)
	if len(u.Skills) == 0 {
		u.Skills = nil
	}
	return u
}

func validateUser(u User) error {
	if u.ID == "" {
		return fmt.Errorf("store: user: empty id: %w", ErrRejected)
	}
	if err := ValidUsername(u.Username); err != nil {
		return fmt.Errorf("store: user: %w: %w", err, ErrRejected)
	}
	if u.Role.rank() == 0 {
		return fmt.Errorf("store: user %s: unknown role %q: %w", u.Username, u.Role, ErrRejected)
	}
	return nil
}

func encodeSkills(s map[string]int) (string, error) {
	if len(s) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("store: encode skills: %w", err)
	}
	return string(b), nil
}

func decodeSkills(b []byte) (map[string]int, error) {
	var s map[string]int
	if len(b) > 0 {
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("store: decode skills: %w", err)
		}
	}
	if len(s) == 0 {
		return nil, nil
	}
	return s, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// --- SQLite ---

const sqliteUserColumns = `id, username, name, role, password_hash, skills, language, disabled, created_at, updated_at`

// CreateUser stores a new user; ErrConflict when the username is taken.
func (s *SQLite) CreateUser(ctx context.Context, u User) error {
	if err := validateUser(u); err != nil {
		return err
	}
	u = normalizeUser(u)
	skills, err := encodeSkills(u.Skills)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO users (id, username, username_key, name, role,
		password_hash, skills, language, disabled, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		u.ID, u.Username, usernameKey(u.Username), u.Name, string(u.Role), u.PasswordHash, skills,
		u.Language, boolInt(u.Disabled), u.CreatedAt.UnixMicro(), u.UpdatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("store: sqlite: create user %s: %w", u.Username, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: sqlite: create user %s: %w", u.Username, err)
	} else if n == 0 {
		return fmt.Errorf("store: user %q: %w", u.Username, ErrConflict)
	}
	return nil
}

// UpdateUser replaces the stored user with u.ID, except its username and
// creation time.
func (s *SQLite) UpdateUser(ctx context.Context, u User) error {
	if err := validateUser(u); err != nil {
		return err
	}
	u = normalizeUser(u)
	skills, err := encodeSkills(u.Skills)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE users SET name = ?, role = ?, password_hash = ?, skills = ?,
		language = ?, disabled = ?, updated_at = ? WHERE id = ?`,
		u.Name, string(u.Role), u.PasswordHash, skills, u.Language, boolInt(u.Disabled),
		u.UpdatedAt.UnixMicro(), u.ID)
	if err != nil {
		return fmt.Errorf("store: sqlite: update user %s: %w", u.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: sqlite: update user %s: %w", u.ID, err)
	} else if n == 0 {
		return fmt.Errorf("store: user %s: %w", u.ID, ErrNotFound)
	}
	return nil
}

// GetUser returns the user with id.
func (s *SQLite) GetUser(ctx context.Context, id string) (User, error) {
	return s.oneUser(ctx, `WHERE id = ?`, id)
}

// FindUser returns the user with this username, ignoring case.
func (s *SQLite) FindUser(ctx context.Context, username string) (User, error) {
	return s.oneUser(ctx, `WHERE username_key = ?`, usernameKey(username))
}

func (s *SQLite) oneUser(ctx context.Context, where string, arg string) (User, error) {
	u, err := scanSQLiteUser(s.r.QueryRowContext(ctx, `SELECT `+sqliteUserColumns+` FROM users `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("store: user %q: %w", arg, ErrNotFound)
	}
	return u, err
}

// ListUsers returns every user ordered by username.
func (s *SQLite) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sqliteUserColumns+` FROM users ORDER BY username_key`)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: list users: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []User
	for rows.Next() {
		u, err := scanSQLiteUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sqlite: list users: %w", err)
	}
	return out, nil
}

func scanSQLiteUser(r rowScanner) (User, error) {
	var (
		u                User
		role, skills     string
		disabled         int
		created, updated int64
	)
	err := r.Scan(&u.ID, &u.Username, &u.Name, &role, &u.PasswordHash, &skills, &u.Language, &disabled,
		&created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, err
	}
	if err != nil {
		return User{}, fmt.Errorf("store: sqlite: scan user: %w", err)
	}
	u.Role, u.Disabled = Role(role), disabled != 0
	u.CreatedAt, u.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	if u.Skills, err = decodeSkills([]byte(skills)); err != nil {
		return User{}, err
	}
	return u, nil
}

// --- PostgreSQL ---

const pgUserColumns = sqliteUserColumns

// CreateUser stores a new user; ErrConflict when the username is taken.
func (s *Postgres) CreateUser(ctx context.Context, u User) error {
	if err := validateUser(u); err != nil {
		return err
	}
	u = normalizeUser(u)
	skills, err := encodeSkills(u.Skills)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO users (id, username, username_key, name, role,
		password_hash, skills, language, disabled, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
		u.ID, u.Username, usernameKey(u.Username), u.Name, string(u.Role), u.PasswordHash, skills,
		u.Language, u.Disabled, u.CreatedAt, u.UpdatedAt)
	if err != nil {
		return fmt.Errorf("store: postgres: create user %s: %w", u.Username, pgClassify(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: user %q: %w", u.Username, ErrConflict)
	}
	return nil
}

// UpdateUser replaces the stored user with u.ID, except its username and
// creation time.
func (s *Postgres) UpdateUser(ctx context.Context, u User) error {
	if err := validateUser(u); err != nil {
		return err
	}
	u = normalizeUser(u)
	skills, err := encodeSkills(u.Skills)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE users SET name = $1, role = $2, password_hash = $3,
		skills = $4::jsonb, language = $5, disabled = $6, updated_at = $7 WHERE id = $8`,
		u.Name, string(u.Role), u.PasswordHash, skills, u.Language, u.Disabled, u.UpdatedAt, u.ID)
	if err != nil {
		return fmt.Errorf("store: postgres: update user %s: %w", u.ID, pgClassify(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: user %s: %w", u.ID, ErrNotFound)
	}
	return nil
}

// GetUser returns the user with id.
func (s *Postgres) GetUser(ctx context.Context, id string) (User, error) {
	return s.oneUser(ctx, `WHERE id = $1`, id)
}

// FindUser returns the user with this username, ignoring case.
func (s *Postgres) FindUser(ctx context.Context, username string) (User, error) {
	return s.oneUser(ctx, `WHERE username_key = $1`, usernameKey(username))
}

func (s *Postgres) oneUser(ctx context.Context, where string, arg string) (User, error) {
	u, err := scanPgUser(s.pool.QueryRow(ctx, `SELECT `+pgUserColumns+` FROM users `+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("store: user %q: %w", arg, ErrNotFound)
	}
	return u, err
}

// ListUsers returns every user ordered by username.
func (s *Postgres) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pgUserColumns+` FROM users ORDER BY username_key`)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanPgUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: postgres: list users: %w", err)
	}
	return out, nil
}

func scanPgUser(r pgx.Row) (User, error) {
	var (
		u      User
		role   string
		skills []byte
	)
	err := r.Scan(&u.ID, &u.Username, &u.Name, &role, &u.PasswordHash, &skills, &u.Language, &u.Disabled,
		&u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, err
	}
	if err != nil {
		return User{}, fmt.Errorf("store: postgres: scan user: %w", err)
	}
	u.Role = Role(role)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	if u.Skills, err = decodeSkills(skills); err != nil {
		return User{}, err
	}
	return u, nil
}
