package config

import (
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/demo"
)

func load(t *testing.T, yaml string) (Config, error) {
	t.Helper()
	return Load(fstest.MapFS{"hotline.yaml": {Data: []byte(yaml)}}, "hotline.yaml")
}

const minimal = `
flows:
  demo: flows/demo.yaml
`

func TestDemoConfigLoads(t *testing.T) {
	cfg, err := Load(demo.FS(), "config.yaml")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:5060", cfg.SIP.Addr)
	require.Equal(t, "127.0.0.1:8080", cfg.HTTP.Addr)
	require.Equal(t, []string{"en", "ru"}, cfg.Prompts.Languages)
	require.Equal(t, "flows/demo.yaml", cfg.Flows["demo"])
	require.Equal(t, 32*time.Second, cfg.SIP.AckTimeout)
}

func TestFileOverridesDefaults(t *testing.T) {
	cfg, err := load(t, minimal+`
rtp:
  media_timeout: 5s
http:
  addr: 127.0.0.1:9999
`)
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, cfg.RTP.MediaTimeout)
	require.Equal(t, "127.0.0.1:9999", cfg.HTTP.Addr)
	require.Equal(t, "10000-20000", cfg.RTP.Ports, "unset keys keep their defaults")
}

func TestErrorsNameFileAndLine(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key": {minimal + "\nrtp:\n  portz: 1-2\n", "hotline.yaml:6: field portz not found"},
		"wrong type":  {minimal + "\nsip:\n  max_calls: lots\n", "hotline.yaml:6: cannot unmarshal"},
		"syntax":      {"flows: [\n", "hotline.yaml:"},
		"bad ports":   {minimal + "\nrtp:\n  ports: 20000-10000\n", `hotline.yaml:6: rtp.ports: "20000-10000" is not a port range`},
		"bad cidr": {minimal + "\nsip:\n  trunks:\n    - name: t\n      flow: demo\n      allow: [10.0.0/8]\n",
			"hotline.yaml:9: sip.trunks.0.allow"},
		"unknown flow": {minimal + "\nsip:\n  trunks:\n    - name: t\n      flow: nope\n",
			`hotline.yaml:8: sip.trunks.0.flow: flow "nope" is not listed under flows`},
		"no flows":      {"http:\n  addr: 127.0.0.1:1\n", "hotline.yaml:1: flows: name at least one IVR flow file"},
		"bad language":  {minimal + "\nprompts:\n  languages: [English]\n  default_language: English\n", "hotline.yaml:6: prompts.languages.0"},
		"bad log level": {minimal + "\nlog:\n  level: loud\n", `hotline.yaml:6: log.level: "loud" is not one of`},
		"bad record mode": {minimal + "\nacd:\n  queues:\n    - name: q\n      record: always\n",
			`hotline.yaml:8: acd.queues.0.record: record "always": want bridged, from_queue, whole or off`},
		"bad retention": {minimal + "\nacd:\n  queues:\n    - name: q\n      retention: forever\n",
			`hotline.yaml:8: acd.queues.0.retention: retention "forever"`},
		"bad recipient": {minimal + "\nrecordings:\n  encrypt_to: AGE-SECRET-KEY-1XYZ\n",
			"hotline.yaml:6: recordings.encrypt_to: sealed: the age recipient is a secret key"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := load(t, tc.yaml)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	_, err := load(t, minimal+"\nhttp:\n  addr: nowhere\nrtp:\n  ip: not-an-ip\n")
	require.Error(t, err)
	require.Contains(t, err.Error(), "hotline.yaml:6: http.addr")
	require.Contains(t, err.Error(), "hotline.yaml:8: rtp.ip")
}

func TestParsePortRange(t *testing.T) {
	lo, hi, err := ParsePortRange("10000-10100")
	require.NoError(t, err)
	require.Equal(t, [2]int{10000, 10100}, [2]int{lo, hi})
	for _, bad := range []string{"", "10000", "a-b", "0-10", "10-70000", "5-5"} {
		_, _, err := ParsePortRange(bad)
		require.Error(t, err, bad)
	}
}

func TestQueueTransferWait(t *testing.T) {
	const acdPart = "\nacd:\n  queues:\n    - name: support\n      members: [{agent: anna}]\n      transfer_wait: "
	cfg, err := load(t, minimal+acdPart+"45s\n")
	require.NoError(t, err)
	require.Equal(t, 45*time.Second, cfg.ACD.Queues[0].TransferWait)

	_, err = load(t, minimal+acdPart+"-5s\n")
	require.ErrorContains(t, err, "transfer_wait: must not be negative")
}

func TestWebhooks(t *testing.T) {
	cfg, err := load(t, minimal+`
webhooks:
  - name: crm
    url: https://crm.example.com/hooks/hotline
    secret: whsec_0123456789abcdef
    events: [ticket.created, call.ended]
  - name: zammad
    url: https://zammad.example.com/api/v1/cti/TOKEN
    format: zammad
    timeout: 5s
`)
	require.NoError(t, err)
	require.Len(t, cfg.Webhooks, 2)
	require.Equal(t, []string{"ticket.created", "call.ended"}, cfg.Webhooks[0].Events)
	require.Equal(t, 5*time.Second, cfg.Webhooks[1].Timeout)

	cfg, err = load(t, minimal)
	require.NoError(t, err)
	require.Empty(t, cfg.Webhooks, "no webhooks by default")

	_, err = load(t, minimal+`
webhooks:
  - name: crm
    url: ftp://crm.example.com/
    secret: short
  - name: crm
    url: https://x.example/
    secret: whsec_0123456789abcdef
    events: [call.exploded]
`)
	require.Error(t, err)
	for _, want := range []string{
		`hotline.yaml:7: webhooks.0.url: "ftp://crm.example.com" is not an http:// or https:// URL`,
		"hotline.yaml:8: webhooks.0.secret: is 5 bytes; use at least 16",
		`hotline.yaml:9: webhooks.1.name: "crm" is already the name of webhooks[0]`,
		`hotline.yaml:12: webhooks.1.events.0: "call.exploded" is not one of`,
	} {
		require.Contains(t, err.Error(), want)
	}
	_, err = load(t, minimal+"\nwebhooks:\n  - name: crm\n    secrett: x\n")
	require.ErrorContains(t, err, "hotline.yaml:7: field secrett not found")
}

func TestHTTPLimits(t *testing.T) {
	cfg, err := load(t, minimal)
	require.NoError(t, err)
	require.Equal(t, 2000, cfg.HTTP.MaxConnections, "defaults")
	require.Equal(t, 200, cfg.HTTP.MaxConnectionsPerSource)
	require.Equal(t, 30*time.Second, cfg.HTTP.ReadTimeout)
	require.Equal(t, int64(1<<20), cfg.HTTP.MaxBodyBytes)

	cfg, err = load(t, minimal+`
http:
  addr: 127.0.0.1:9999
  read_timeout: 15s
  max_connections: 50
  max_connections_per_source: 10
  max_body_bytes: 100000
`)
	require.NoError(t, err)
	require.Equal(t, 15*time.Second, cfg.HTTP.ReadTimeout)
	require.Equal(t, 50, cfg.HTTP.MaxConnections)
	require.Equal(t, 10, cfg.HTTP.MaxConnectionsPerSource)
	require.Equal(t, int64(100000), cfg.HTTP.MaxBodyBytes)
	require.Equal(t, 10*time.Second, cfg.HTTP.ReadHeaderTimeout, "unset limits keep their defaults")

	_, err = load(t, minimal+`
http:
  addr: 127.0.0.1:9999
  read_timeout: 0s
  max_connections: 10
  max_connections_per_source: 20
  max_body_bytes: 10
`)
	require.Error(t, err)
	for _, want := range []string{
		"hotline.yaml:7: http.read_timeout: must be positive",
		"hotline.yaml:9: http.max_connections_per_source: must not be more than max_connections (10)",
		"hotline.yaml:10: http.max_body_bytes: must be at least 65536",
	} {
		require.Contains(t, err.Error(), want)
	}
	_, err = load(t, minimal+"\nhttp:\n  max_conections: 5\n")
	require.ErrorContains(t, err, "field max_conections not found", "typos are caught")
}

func TestHTTPS(t *testing.T) {
	cfg, err := load(t, minimal)
	require.NoError(t, err)
	require.False(t, cfg.HTTP.TLS(), "plain HTTP by default")
	require.False(t, cfg.HTTP.BehindTLSProxy)
	require.Empty(t, cfg.HTTP.MetricsToken, "/metrics is open by default")

	cfg, err = load(t, minimal+`
http:
  addr: 0.0.0.0:8443
  tls_cert: /etc/hotline/cert.pem
  tls_key: /etc/hotline/key.pem
  metrics_token: 0123456789abcdef
`)
	require.NoError(t, err)
	require.True(t, cfg.HTTP.TLS())
	require.Equal(t, "/etc/hotline/cert.pem", cfg.HTTP.TLSCert)
	require.Equal(t, "/etc/hotline/key.pem", cfg.HTTP.TLSKey)
	require.Equal(t, "0123456789abcdef", cfg.HTTP.MetricsToken)
	require.Equal(t, 30*time.Second, cfg.HTTP.ReadTimeout, "the limits keep their defaults")

	cfg, err = load(t, minimal+"\nhttp:\n  behind_tls_proxy: true\n")
	require.NoError(t, err)
	require.True(t, cfg.HTTP.BehindTLSProxy)
	require.False(t, cfg.HTTP.TLS())

	_, err = load(t, minimal+"\nhttp:\n  tls_cert: cert.pem\n")
	require.ErrorContains(t, err, "hotline.yaml:5: http.tls_key: must be set with tls_cert")
	_, err = load(t, minimal+"\nhttp:\n  addr: 127.0.0.1:1\n  metrics_token: two words\n")
	require.ErrorContains(t, err, "hotline.yaml:7: http.metrics_token: must not contain spaces")
}
