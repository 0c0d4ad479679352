package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// --webhook adds one signed endpoint to the demo; without a secret it is
// refused with the reason.
func TestWebhookFlag(t *testing.T) {
	cfg, _, err := loadConfig(overrides{webhook: "http://127.0.0.1:9099/", webhookSecret: "change-me-to-16-bytes-or-more"})
	require.NoError(t, err)
	require.Len(t, cfg.Webhooks, 1)
	require.Equal(t, "cli", cfg.Webhooks[0].Name)
	require.Equal(t, "http://127.0.0.1:9099/", cfg.Webhooks[0].URL)

	_, _, err = loadConfig(overrides{webhook: "http://127.0.0.1:9099/"})
	require.ErrorContains(t, err, "secret")
	_, _, err = loadConfig(overrides{webhook: "ftp://127.0.0.1/", webhookSecret: "change-me-to-16-bytes-or-more"})
	require.ErrorContains(t, err, "url")
}
