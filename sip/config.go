// Package sip is the hotline's SIP edge over sipgo: it listens on UDP and TCP
// (and TLS when configured; SRTP with SDES keys per trunk, sdes.go),
// admits or refuses INVITEs (trunk ACL, per-source rate limit, per-source cap
// on calls not yet confirmed by ACK, concurrent call cap, drain), negotiates
// G.711 with SDP, opens one media.Endpoint per call and hands every answered
// call to a Handler for the call's whole life. SIP over TCP has per-source and
// total connection caps and idle and per-message timeouts.
package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Config is the `sip:` block of the hotline configuration.
type Config struct {
	// Addr is where UDP and TCP both listen, e.g. "127.0.0.1:5060" (port 0 picks a free port).
	Addr string `yaml:"addr"`
	// TLSListen, when set, is where SIP over TLS listens, e.g.
	// "0.0.0.0:5061" (port 0 picks a free port); it needs TLSCert and TLSKey.
	TLSListen string `yaml:"tls_listen"`
	// TLSCert and TLSKey are the PEM certificate (chain after it) and key
	// SIP over TLS presents; read like http.tls_cert, again on SIGHUP.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// MaxCalls caps concurrent calls (ringing or answered); over it an INVITE gets 503.
	MaxCalls int `yaml:"max_calls"`
	// InviteRate is the number of new INVITEs per second allowed from one source IP.
	InviteRate float64 `yaml:"invite_rate"`
	// InviteBurst is the token bucket depth of the per-source INVITE rate limit.
	InviteBurst int `yaml:"invite_burst"`
	// RingTime is how long we send 180 Ringing before answering (0 answers at once).
	RingTime time.Duration `yaml:"ring_time"`
	// AckTimeout is how long we wait for the ACK of our 200 before hanging up with BYE.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// RetryAfter is the Retry-After sent with 503 while draining or over capacity.
	RetryAfter time.Duration `yaml:"retry_after"`
	// MaxUnconfirmedPerSource caps the calls from one source (an IPv4
	// address or an IPv6 /64) that are not yet confirmed by ACK: ringing, or
	// answered and waiting for the ACK. Over it an INVITE gets 503 with
	// Retry-After. With ring_time set, allow invite rate × (ring_time + 1 s).
	MaxUnconfirmedPerSource int `yaml:"max_unconfirmed_per_source"`
	// TCPIdleTimeout closes a SIP TCP connection that has carried no
	// complete message for this long and has no live call on it. CRLF
	// keep-alives are answered but do not count as traffic.
	TCPIdleTimeout time.Duration `yaml:"tcp_idle_timeout"`
	// TCPMessageTimeout closes a SIP TCP connection whose message takes
	// longer than this from its first byte to its last (a half-sent
	// request), and bounds each write to the connection.
	TCPMessageTimeout time.Duration `yaml:"tcp_message_timeout"`
	// MaxTCPConnsPerSource caps the open SIP TCP connections from one source
	// (an IPv4 address or an IPv6 /64); over it a new one is closed at once.
	MaxTCPConnsPerSource int `yaml:"max_tcp_connections_per_source"`
	// MaxTCPConns caps all open SIP TCP connections; over it a new one is
	// closed at once. Keep it well under the process's file limit.
	MaxTCPConns int `yaml:"max_tcp_connections"`
	// AuthNonceExpiry is how long a digest nonce is good for (0: 5 minutes);
	// credentials on an older one get 401 with stale=true.
	AuthNonceExpiry time.Duration `yaml:"auth_nonce_expiry"`
	// Trunks lists who may call us; the first trunk whose Allow contains the source wins.
	Trunks []TrunkConfig `yaml:"trunks"`
}

// TrunkConfig describes one SIP peer (a trunk or PBX) allowed to send us calls.
type TrunkConfig struct {
	// Name identifies the trunk in logs and call records.
	Name string `yaml:"name"`
	// Allow lists the CIDRs calls may come from; empty allows any source.
	Allow []string `yaml:"allow"`
	// Flow is the IVR flow the switchboard runs for calls from this trunk.
	Flow string `yaml:"flow"`
	// InbandDTMF is "auto" (on only when telephone-event was not negotiated), "on" or "off".
	InbandDTMF string `yaml:"inband_dtmf"`
	// Auth, when set, requires digest authentication of the trunk's INVITEs
	// (after the Allow check and the per-source limits).
	Auth *TrunkAuth `yaml:"auth"`
	// SRTP is "off" (the default: plain RTP, an RTP/SAVP offer gets 488),
	// "optional" (SRTP when the offer has a usable a=crypto) or "required"
	// (an INVITE without one gets 488). Keys (SDES) are only taken from an
	// INVITE that came over TLS unless SRTPWithoutTLS is set.
	SRTP string `yaml:"srtp"`
	// SRTPWithoutTLS allows SDES keys in INVITEs over UDP or TCP, where
	// anyone on the path can read them; for a trunk on a trusted network.
	SRTPWithoutTLS bool `yaml:"srtp_without_tls"`
	// TrustAssertedIdentity takes the calling number and name from the
	// INVITE's P-Asserted-Identity (RFC 3325) instead of From. Off by
	// default: only a trunk whose carrier sets the header and strips it
	// from its own callers (a trust domain) should turn it on, or a caller
	// could claim any number.
	TrustAssertedIdentity bool `yaml:"trust_asserted_identity"`
}

// In-band DTMF settings of a trunk.
const (
	InbandAuto = "auto"
	InbandOn   = "on"
	InbandOff  = "off"
)

// DefaultConfig returns the demo configuration: loopback, one trunk open to any source.
func DefaultConfig() Config {
	return Config{
		Addr:        "127.0.0.1:5060",
		MaxCalls:    2000,
		InviteRate:  50,
		InviteBurst: 100,
		RingTime:    0,
		AckTimeout:  32 * time.Second,
		RetryAfter:  30 * time.Second,

		MaxUnconfirmedPerSource: 20,
		TCPIdleTimeout:          30 * time.Second,
		TCPMessageTimeout:       10 * time.Second,
		MaxTCPConnsPerSource:    50,
		MaxTCPConns:             1000,
		Trunks: []TrunkConfig{
			{Name: "default", Flow: "demo", InbandDTMF: InbandAuto},
		},
	}
}

// Validate reports every problem in the configuration, joined, each prefixed
// with its path (e.g. `sip.trunks[1].allow: "10.0.0/8" is not a CIDR`).
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("sip.%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if c.Addr == "" {
		bad("addr", "is empty")
	} else if _, err := netip.ParseAddrPort(c.Addr); err != nil {
		bad("addr", "%q is not an ip:port address", c.Addr)
	}
	if c.TLSListen != "" {
		if _, err := netip.ParseAddrPort(c.TLSListen); err != nil {
			bad("tls_listen", "%q is not an ip:port address", c.TLSListen)
		}
		if c.TLSCert == "" || c.TLSKey == "" {
			bad("tls_listen", "needs tls_cert and tls_key")
		}
	} else if c.TLSCert != "" || c.TLSKey != "" {
		bad("tls_cert", "is set but tls_listen is not (SIP over TLS is off)")
	}
	if c.MaxCalls <= 0 {
		bad("max_calls", "must be positive, got %d", c.MaxCalls)
	}
	if c.InviteRate <= 0 {
		bad("invite_rate", "must be positive, got %g", c.InviteRate)
	}
	if c.InviteBurst <= 0 {
		bad("invite_burst", "must be positive, got %d", c.InviteBurst)
	}
	if c.RingTime < 0 {
		bad("ring_time", "must not be negative, got %s", c.RingTime)
	}
	if c.AckTimeout <= 0 {
		bad("ack_timeout", "must be positive, got %s", c.AckTimeout)
	}
	if c.RetryAfter < 0 {
		bad("retry_after", "must not be negative, got %s", c.RetryAfter)
	}
	if c.MaxUnconfirmedPerSource <= 0 {
		bad("max_unconfirmed_per_source", "must be positive, got %d", c.MaxUnconfirmedPerSource)
	}
	if c.TCPIdleTimeout <= 0 {
		bad("tcp_idle_timeout", "must be positive, got %s", c.TCPIdleTimeout)
	}
	if c.TCPMessageTimeout <= 0 {
		bad("tcp_message_timeout", "must be positive, got %s", c.TCPMessageTimeout)
	}
	if c.MaxTCPConnsPerSource <= 0 {
		bad("max_tcp_connections_per_source", "must be positive, got %d", c.MaxTCPConnsPerSource)
	}
	if c.MaxTCPConns <= 0 {
		bad("max_tcp_connections", "must be positive, got %d", c.MaxTCPConns)
	} else if c.MaxTCPConnsPerSource > c.MaxTCPConns {
		bad("max_tcp_connections", "must be at least max_tcp_connections_per_source (%d), got %d", c.MaxTCPConnsPerSource, c.MaxTCPConns)
	}
	if c.AuthNonceExpiry < 0 {
		bad("auth_nonce_expiry", "must not be negative, got %s", c.AuthNonceExpiry)
	}
	if len(c.Trunks) == 0 {
		bad("trunks", "at least one trunk is needed, or no call can be accepted")
	}
	names := map[string]int{}
	for i, t := range c.Trunks {
		p := fmt.Sprintf("trunks[%d]", i)
		if t.Name == "" {
			bad(p+".name", "is empty")
		} else if j, dup := names[t.Name]; dup {
			bad(p+".name", "%q is already used by trunks[%d]", t.Name, j)
		} else {
			names[t.Name] = i
		}
		for _, a := range t.Allow {
			if _, err := netip.ParsePrefix(a); err != nil {
				bad(p+".allow", "%q is not a CIDR", a)
			}
		}
		switch t.InbandDTMF {
		case "", InbandAuto, InbandOn, InbandOff:
		default:
			bad(p+".inband_dtmf", "%q is not one of auto, on, off", t.InbandDTMF)
		}
		switch t.SRTP {
		case "", SRTPOff:
			if t.SRTPWithoutTLS {
				bad(p+".srtp_without_tls", "is set but srtp is off")
			}
		case SRTPOptional, SRTPRequired:
			if c.TLSListen == "" && !t.SRTPWithoutTLS {
				bad(p+".srtp", "%s needs sip.tls_listen (SDES keys travel in the SIP messages), or srtp_without_tls: true", t.SRTP)
			}
		default:
			bad(p+".srtp", "%q is not one of required, optional, off", t.SRTP)
		}
		if a := t.Auth; a != nil {
			if a.Username == "" {
				bad(p+".auth.username", "is empty")
			}
			if strings.ContainsAny(a.Username+a.Realm, "\"\\\r\n") {
				bad(p+".auth", "username and realm must not hold quotes, backslashes or line breaks")
			}
			if (a.Password == "") == (a.PasswordFile == "") {
				bad(p+".auth", "set exactly one of password and password_file")
			}
			for _, alg := range a.Algorithms {
				if alg != AlgSHA256 && alg != AlgMD5 {
					bad(p+".auth.algorithms", "%q is not SHA-256 or MD5", alg)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// trunkTable is the parsed, immutable form of Config.Trunks.
type trunkTable []trunkEntry

type trunkEntry struct {
	cfg      TrunkConfig
	allow    []netip.Prefix
	password string // of cfg.Auth, read from the file if need be
}

// newTrunkTable parses the trunks' CIDRs; the config must have been validated.
func newTrunkTable(trunks []TrunkConfig) (trunkTable, error) {
	tt := make(trunkTable, 0, len(trunks))
	for i, t := range trunks {
		e := trunkEntry{cfg: t}
		e.cfg.Allow = append([]string(nil), t.Allow...)
		if e.cfg.InbandDTMF == "" {
			e.cfg.InbandDTMF = InbandAuto
		}
		if e.cfg.SRTP == "" {
			e.cfg.SRTP = SRTPOff
		}
		if t.Auth != nil {
			a := *t.Auth
			if a.Realm == "" {
				a.Realm = "hotline"
			}
			if len(a.Algorithms) == 0 {
				a.Algorithms = []string{AlgSHA256, AlgMD5}
			} else {
				a.Algorithms = append([]string(nil), a.Algorithms...)
			}
			e.password = a.Password
			if a.PasswordFile != "" {
				b, err := os.ReadFile(a.PasswordFile)
				if err != nil {
					return nil, fmt.Errorf("sip.trunks[%d].auth.password_file: %w", i, err)
				}
				if e.password = strings.TrimRight(string(b), "\r\n"); e.password == "" {
					return nil, fmt.Errorf("sip.trunks[%d].auth.password_file: %s is empty", i, a.PasswordFile)
				}
			}
			a.Password = ""
			e.cfg.Auth = &a
		}
		for _, a := range t.Allow {
			p, err := netip.ParsePrefix(a)
			if err != nil {
				return nil, fmt.Errorf("sip.trunks[%d].allow: %q is not a CIDR", i, a)
			}
			e.allow = append(e.allow, p.Masked())
		}
		tt = append(tt, e)
	}
	return tt, nil
}

// match returns the first trunk whose Allow list contains ip (an empty list allows any).
func (tt trunkTable) match(ip netip.Addr) (TrunkConfig, bool) {
	if e := tt.entry(ip); e != nil {
		return e.cfg, true
	}
	return TrunkConfig{}, false
}

func (tt trunkTable) entry(ip netip.Addr) *trunkEntry {
	ip = ip.Unmap()
	for i := range tt {
		e := &tt[i]
		if len(e.allow) == 0 {
			return e
		}
		for _, p := range e.allow {
			if p.Contains(ip) {
				return e
			}
		}
	}
	return nil
}
