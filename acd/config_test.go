package acd

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	good := driveConfig()
	require.NoError(t, good.Validate())
	require.NoError(t, Config{}.Validate(), "no queues is a valid (idle) ACD")

	tests := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"empty name", func(c *Config) { c.Queues[1].Name = "" }, "queues[1].name: is empty"},
		{"duplicate name", func(c *Config) { c.Queues[2].Name = "support" }, `queues[2].name: "support" is already used by queues[0]`},
		{"colon in name", func(c *Config) { c.Queues[0].Name = "a:b" }, `queues[0].name: "a:b" must not contain spaces or colons`},
		{"strategy", func(c *Config) { c.Queues[1].Strategy = "fastest" }, `queues[1].strategy: "fastest" is not one of longest-idle,`},
		{"member twice", func(c *Config) { c.Queues[2].Members[1].Agent = "a1" }, `queues[2].members[1].agent: "a1" is already members[0]`},
		{"member empty", func(c *Config) { c.Queues[2].Members[1].Agent = "" }, `queues[2].members[1].agent: is empty`},
		{"negative level", func(c *Config) { c.Queues[0].Members[0].Skills["tech"] = -1 }, "queues[0].members[0].skills.tech: level must not be negative"},
		{"negative required", func(c *Config) { c.Queues[0].RequiredSkills["tech"] = -2 }, "queues[0].required_skills.tech: level must not be negative"},
		{"widening raises", func(c *Config) { c.Queues[0].Widen[0].Skills["tech"] = 5 }, "queues[0].widen[0].skills.tech: widening may only lower a level: 5 is above 2"},
		{"widening order", func(c *Config) {
			c.Queues[0].Widen = append(c.Queues[0].Widen, Widening{After: 10 * time.Second})
		}, "queues[0].widen[1].after: must be positive and later than the previous stage"},
		{"negative wait", func(c *Config) { c.Queues[0].MaxWait = -time.Second }, "queues[0].max_wait: must not be negative"},
		{"negative transfer wait", func(c *Config) { c.Queues[2].TransferWait = -time.Second }, "queues[2].transfer_wait: must not be negative"},
		{"negative len", func(c *Config) { c.Queues[0].MaxLen = -1 }, "queues[0].max_len: must not be negative"},
		{"announce too often", func(c *Config) { c.Queues[0].AnnounceEvery = time.Millisecond }, "queues[0].announce_every: must be at least 1s"},
		{"bad target", func(c *Config) { c.Queues[1].Overflow = "voicemail" }, `queues[1].overflow: "voicemail" is not queue:NAME, node:FLOW:NODE or hangup`},
		{"bad node", func(c *Config) { c.Queues[1].Overflow = "node:main" }, `queues[1].overflow: "node:main" is not node:FLOW:NODE`},
		{"unknown queue", func(c *Config) { c.Queues[1].Overflow = "queue:nope" }, `queues[1].overflow: queue "nope" is not configured`},
		{"self", func(c *Config) { c.Queues[1].Overflow = "queue:general" }, "queues[1].overflow: a queue cannot overflow into itself"},
		{"loop", func(c *Config) { c.Queues[1].Overflow = "queue:support" }, "queues: overflow targets form a loop: support → general → support"},
		{"reason twice", func(c *Config) { c.NotReadyReasons = []string{"lunch", "lunch"} }, `not_ready_reasons[1]: "lunch" is listed twice`},
		{"label of no reason", func(c *Config) { c.NotReadyLabels = map[string]map[string]string{"nap": {"en": "Nap"}} }, `not_ready_labels.nap: "nap" is not one of not_ready_reasons`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := driveConfig()
			tt.edit(&c)
			err := c.Validate()
			require.Error(t, err)
			require.True(t, strings.Contains(err.Error(), tt.want), "got %q, want it to contain %q", err.Error(), tt.want)
			_, err = New(c, Options{})
			require.ErrorContains(t, err, tt.want, "New validates too")
		})
	}
}
