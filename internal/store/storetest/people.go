package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// runPeople is the contract of users, sessions, API tokens and agent events.
func runPeople(t *testing.T, fresh func(t *testing.T) store.Store) {
	t.Run("UserRoundTrip", func(t *testing.T) { testUserRoundTrip(t, fresh(t)) })
	t.Run("UsernameUniqueIgnoringCase", func(t *testing.T) { testUsernameUnique(t, fresh(t)) })
	t.Run("UserUpdate", func(t *testing.T) { testUserUpdate(t, fresh(t)) })
	t.Run("UserRejected", func(t *testing.T) { testUserRejected(t, fresh(t)) })
	t.Run("SessionLifecycle", func(t *testing.T) { testSessionLifecycle(t, fresh(t)) })
	t.Run("SessionsSurviveMigrate", func(t *testing.T) { testSessionsSurviveMigrate(t, fresh(t)) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, fresh(t)) })
	t.Run("AgentEvents", func(t *testing.T) { testAgentEvents(t, fresh(t)) })
}

// SampleUser returns an agent with every field set.
func SampleUser(id, username string) store.User {
	return store.User{
		ID:           id,
		Username:     username,
		Name:         "Анна Петрова",
		Role:         store.RoleAgent,
		PasswordHash: "$2a$10$abcdefghijklmnopqrstuuJ9Qb1pZ7lQmV8b5y3s2Yp5H1qz9Q3W6",
		Skills:       map[string]int{"support": 3, "billing": 1},
		Language:     "ru",
		CreatedAt:    base,
		UpdatedAt:    base.Add(time.Second),
	}
}

func normalUser(u store.User) store.User {
	u.CreatedAt = u.CreatedAt.UTC().Truncate(time.Microsecond)
	u.UpdatedAt = u.UpdatedAt.UTC().Truncate(time.Microsecond)
	if len(u.Skills) == 0 {
		u.Skills = nil
	}
	return u
}

func testUserRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	users, err := s.ListUsers(ctx)
	require.NoError(t, err)
	require.Empty(t, users, "a fresh store has no users")

	anna := SampleUser("u1", "Anna")
	require.NoError(t, s.CreateUser(ctx, anna))
	bare := store.User{ID: "u2", Username: "boris", Role: store.RoleSupervisor, CreatedAt: base, UpdatedAt: base}
	require.NoError(t, s.CreateUser(ctx, bare))

	got, err := s.GetUser(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, normalUser(anna), got)
	require.Equal(t, time.UTC, got.CreatedAt.Location())

	for _, name := range []string{"anna", "ANNA", "Anna"} {
		got, err = s.FindUser(ctx, name)
		require.NoError(t, err, "find %q", name)
		require.Equal(t, "u1", got.ID)
		require.Equal(t, "Anna", got.Username, "the username keeps its spelling")
	}
	got, err = s.GetUser(ctx, "u2")
	require.NoError(t, err)
	require.Nil(t, got.Skills)
	require.Equal(t, normalUser(bare), got)

	_, err = s.GetUser(ctx, "nobody")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.FindUser(ctx, "nobody")
	require.ErrorIs(t, err, store.ErrNotFound)

	users, err = s.ListUsers(ctx)
	require.NoError(t, err)
	require.Len(t, users, 2)
	require.Equal(t, "Anna", users[0].Username, "ordered by username ignoring case")
	require.Equal(t, "boris", users[1].Username)
}

func testUsernameUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.NoError(t, s.CreateUser(ctx, SampleUser("u1", "anna")))
	err := s.CreateUser(ctx, SampleUser("u2", "ANNA"))
	require.ErrorIs(t, err, store.ErrConflict)
	err = s.CreateUser(ctx, SampleUser("u1", "other"))
	require.ErrorIs(t, err, store.ErrConflict, "an id is unique too")
	users, err := s.ListUsers(ctx)
	require.NoError(t, err)
	require.Len(t, users, 1)
}

func testUserUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := SampleUser("u1", "anna")
	require.NoError(t, s.CreateUser(ctx, u))

	u.Name, u.Role, u.PasswordHash, u.Language = "Anna K.", store.RoleAdmin, "$2a$10$new", "en"
	u.Skills, u.Disabled, u.UpdatedAt = map[string]int{"support": 5}, true, base.Add(time.Hour)
	u.Username, u.CreatedAt = "renamed", base.Add(time.Hour) // ignored
	require.NoError(t, s.UpdateUser(ctx, u))

	got, err := s.GetUser(ctx, "u1")
	require.NoError(t, err)
	want := normalUser(u)
	want.Username, want.CreatedAt = "anna", normalUser(SampleUser("", "")).CreatedAt
	require.Equal(t, want, got)

	missing := SampleUser("nope", "ghost")
	require.ErrorIs(t, s.UpdateUser(ctx, missing), store.ErrNotFound)
}

func testUserRejected(t *testing.T, s store.Store) {
	ctx := t.Context()
	bad := []store.User{
		{Username: "anna", Role: store.RoleAgent},
		{ID: "u1", Username: "", Role: store.RoleAgent},
		{ID: "u1", Username: "has space", Role: store.RoleAgent},
		{ID: "u1", Username: "anna", Role: "root"},
	}
	for i, u := range bad {
		require.ErrorIs(t, s.CreateUser(ctx, u), store.ErrRejected, "user %d", i)
	}
}

func testSessionLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.NoError(t, s.CreateUser(ctx, SampleUser("u1", "anna")))
	require.NoError(t, s.CreateUser(ctx, SampleUser("u2", "boris")))
	mk := func(secret, user string, expires time.Time) store.Session {
		return store.Session{Hash: store.TokenHash(secret), UserID: user, CreatedAt: base, LastSeenAt: base,
			ExpiresAt: expires, CSRF: "csrf-" + secret}
	}
	a1 := mk("a1", "u1", base.Add(12*time.Hour))
	a2 := mk("a2", "u1", base.Add(time.Hour))
	b1 := mk("b1", "u2", base.Add(2*time.Hour))
	for _, se := range []store.Session{a1, a2, b1} {
		require.NoError(t, s.CreateSession(ctx, se))
	}
	require.ErrorIs(t, s.CreateSession(ctx, store.Session{UserID: "u1"}), store.ErrRejected)

	got, err := s.GetSession(ctx, a1.Hash)
	require.NoError(t, err)
	require.Equal(t, a1.Hash, got.Hash)
	require.Equal(t, "u1", got.UserID)
	require.Equal(t, "csrf-a1", got.CSRF)
	require.Equal(t, base.UTC().Truncate(time.Microsecond), got.LastSeenAt)
	require.Equal(t, base.Add(12*time.Hour).UTC().Truncate(time.Microsecond), got.ExpiresAt)
	require.Equal(t, time.UTC, got.ExpiresAt.Location())
	_, err = s.GetSession(ctx, store.TokenHash("never issued"))
	require.ErrorIs(t, err, store.ErrNotFound)

	seen := base.Add(5 * time.Minute)
	require.NoError(t, s.TouchSession(ctx, a1.Hash, seen))
	got, err = s.GetSession(ctx, a1.Hash)
	require.NoError(t, err)
	require.Equal(t, seen.UTC().Truncate(time.Microsecond), got.LastSeenAt)
	require.ErrorIs(t, s.TouchSession(ctx, "gone", seen), store.ErrNotFound)

	n, err := s.DeleteExpiredSessions(ctx, base.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n, "only a2 expired (expiry equal to now counts)")
	_, err = s.GetSession(ctx, a2.Hash)
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, s.DeleteSession(ctx, b1.Hash))
	require.NoError(t, s.DeleteSession(ctx, b1.Hash), "deleting twice is fine")
	_, err = s.GetSession(ctx, b1.Hash)
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, s.CreateSession(ctx, mk("a3", "u1", base.Add(time.Hour))))
	require.NoError(t, s.DeleteUserSessions(ctx, "u1"))
	for _, secret := range []string{"a1", "a3"} {
		_, err = s.GetSession(ctx, store.TokenHash(secret))
		require.ErrorIs(t, err, store.ErrNotFound, "session %s of the user is gone", secret)
	}
}

func testSessionsSurviveMigrate(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.NoError(t, s.CreateUser(ctx, SampleUser("u1", "anna")))
	se := store.Session{Hash: store.TokenHash("x"), UserID: "u1", CreatedAt: base, LastSeenAt: base,
		ExpiresAt: base.Add(time.Hour), CSRF: "c"}
	require.NoError(t, s.CreateSession(ctx, se))
	require.NoError(t, s.Migrate(ctx))
	_, err := s.GetSession(ctx, se.Hash)
	require.NoError(t, err)
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := store.APIToken{ID: "t1", Name: "helpdesk", Role: store.RoleSupervisor, Hash: store.TokenHash("secret"),
		CreatedAt: base}
	require.NoError(t, s.CreateToken(ctx, tok))
	dup := tok
	dup.ID, dup.Hash = "t2", store.TokenHash("other")
	require.ErrorIs(t, s.CreateToken(ctx, dup), store.ErrConflict, "token names are unique")
	require.ErrorIs(t, s.CreateToken(ctx, store.APIToken{ID: "t3", Name: "x", Role: store.RoleAgent}), store.ErrRejected)
	require.ErrorIs(t, s.CreateToken(ctx, store.APIToken{ID: "t3", Name: "x", Role: "root", Hash: "h"}), store.ErrRejected)

	got, err := s.GetToken(ctx, store.TokenHash("secret"))
	require.NoError(t, err)
	require.Equal(t, "helpdesk", got.Name)
	require.Equal(t, store.RoleSupervisor, got.Role)
	require.Nil(t, got.LastUsedAt)
	require.False(t, got.Disabled)
	require.Equal(t, base.UTC().Truncate(time.Microsecond), got.CreatedAt)
	_, err = s.GetToken(ctx, store.TokenHash("wrong"))
	require.ErrorIs(t, err, store.ErrNotFound)

	used := base.Add(time.Minute)
	require.NoError(t, s.TouchToken(ctx, tok.Hash, used))
	require.NoError(t, s.SetTokenDisabled(ctx, "helpdesk", true))
	require.ErrorIs(t, s.SetTokenDisabled(ctx, "nope", true), store.ErrNotFound)
	require.NoError(t, s.CreateToken(ctx, store.APIToken{ID: "t0", Name: "backup", Role: store.RoleAdmin,
		Hash: store.TokenHash("b"), CreatedAt: base}))

	list, err := s.ListTokens(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "backup", list[0].Name, "ordered by name")
	require.Equal(t, "helpdesk", list[1].Name)
	require.True(t, list[1].Disabled)
	require.NotNil(t, list[1].LastUsedAt)
	require.Equal(t, used.UTC().Truncate(time.Microsecond), *list[1].LastUsedAt)
}

func testAgentEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	ev := func(i int, agent, state string) store.AgentEvent {
		return store.AgentEvent{ID: fmt.Sprintf("e%02d", i), AgentID: agent, At: base.Add(time.Duration(i) * time.Second),
			State: state, Reason: "", CallID: ""}
	}
	first := []store.AgentEvent{ev(1, "u1", "ready"), ev(3, "u1", "on-call"), ev(2, "u1", "offered"), ev(2+10, "u2", "ready")}
	first[1].CallID = "call-1"
	first[2].CallID = "call-1"
	require.NoError(t, s.AppendAgentEvents(ctx, nil))
	require.NoError(t, s.AppendAgentEvents(ctx, first))
	// A retried batch: stored ids are ignored, new ones added.
	replay := ev(3, "u1", "changed")
	notReady := ev(4, "u1", "not-ready")
	notReady.Reason = "missed call"
	require.NoError(t, s.AppendAgentEvents(ctx, []store.AgentEvent{replay, notReady}))
	require.ErrorIs(t, s.AppendAgentEvents(ctx, []store.AgentEvent{{ID: "x", AgentID: "u1"}}), store.ErrRejected)

	got, err := s.ListAgentEvents(ctx, "u1", base, base.Add(time.Hour))
	require.NoError(t, err)
	var states []string
	for _, e := range got {
		states = append(states, e.State)
		require.Equal(t, time.UTC, e.At.Location())
	}
	require.Equal(t, []string{"ready", "offered", "on-call", "not-ready"}, states, "oldest first; replay ignored")
	require.Equal(t, "call-1", got[2].CallID)
	require.Equal(t, "missed call", got[3].Reason)
	require.Equal(t, base.Add(4*time.Second).UTC().Truncate(time.Microsecond), got[3].At)

	all, err := s.ListAgentEvents(ctx, "", base, base.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, all, 5)
	require.Equal(t, "u2", all[4].AgentID)

	window, err := s.ListAgentEvents(ctx, "u1", base.Add(2*time.Second), base.Add(4*time.Second))
	require.NoError(t, err)
	require.Len(t, window, 2, "from is inclusive, to exclusive")
}
