package store_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		role, min store.Role
		ok        bool
	}{
		{store.RoleAgent, store.RoleAgent, true},
		{store.RoleAgent, store.RoleSupervisor, false},
		{store.RoleSupervisor, store.RoleAgent, true},
		{store.RoleAdmin, store.RoleSupervisor, true},
		{store.RoleSupervisor, store.RoleAdmin, false},
		{"root", store.RoleAgent, false},
		{"", "", false},
	} {
		require.Equal(t, tc.ok, tc.role.AtLeast(tc.min), "%q at least %q", tc.role, tc.min)
	}
	r, err := store.ParseRole(" Supervisor ")
	require.NoError(t, err)
	require.Equal(t, store.RoleSupervisor, r)
	_, err = store.ParseRole("boss")
	require.ErrorContains(t, err, "want agent, supervisor or admin")
}

func TestValidUsername(t *testing.T) {
	for _, ok := range []string{"anna", "Boris.K", "agent_7", "a-b@example.com", "Анна"} {
		require.NoError(t, store.ValidUsername(ok), ok)
	}
	for _, bad := range []string{"", "has space", "token:x", "a/b", strings.Repeat("a", 65), "\xff"} {
		require.Error(t, store.ValidUsername(bad), bad)
	}
}

func TestTokenHash(t *testing.T) {
	h := store.TokenHash("secret")
	require.Len(t, h, 64, "hex SHA-256")
	require.Equal(t, h, store.TokenHash("secret"))
	require.NotEqual(t, h, store.TokenHash("secreT"))
}
