package softphone

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Defaults for Config.
const (
	DefaultUDPAddr          = "0.0.0.0:40000"
	DefaultHeartbeatTimeout = 10 * time.Second
	DefaultReloadGrace      = 5 * time.Second
	DefaultAudioGrace       = 20 * time.Second
)

// Config is the softphone part of the YAML configuration.
type Config struct {
	// UDPAddr is the one UDP address ("ip:port") that carries the media of
	// every agent (ICE UDP mux). A loopback IP keeps everything on loopback
	// (tests); 0.0.0.0 offers every interface; port 0 picks a free port.
	UDPAddr string `yaml:"udp_addr"`
	// PublicIPs are the addresses the browsers see when the server sits
	// behind a 1:1 NAT; they replace the local IP in the server's host
	// candidates.
	PublicIPs []string `yaml:"public_ips"`
	// ICEServers are STUN/TURN servers handed to the browser in welcome.
	ICEServers []ICEServer `yaml:"ice_servers"`
	// HeartbeatTimeout: a browser silent this long is declared dead
	// (default 10 s).
	HeartbeatTimeout time.Duration `yaml:"heartbeat_timeout"`
	// ReloadGrace: after a socket closes, a new one for the same agent within
	// this time (a page reload) keeps the agent's state and call (default 5 s).
	ReloadGrace time.Duration `yaml:"reload_grace"`
	// AudioGrace: an agent whose page has had no working media connection
	// this long (failed, closed, or never set up) is reported to the Desk
	// (Desk.AudioLost), and again every AudioGrace while it lasts, so calls
	// are not offered into silence (default 20 s, longer than the page's own
	// retries; a negative value turns the check off).
	AudioGrace time.Duration `yaml:"audio_grace"`
}

// DefaultConfig returns the built-in configuration.
func DefaultConfig() Config {
	return Config{
		UDPAddr:          DefaultUDPAddr,
		HeartbeatTimeout: DefaultHeartbeatTimeout,
		ReloadGrace:      DefaultReloadGrace,
		AudioGrace:       DefaultAudioGrace,
	}
}

// Validate reports every problem in the configuration, joined, each prefixed
// with its path (e.g. `softphone.udp_addr: "x" is not an ip:port address`).
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("softphone.%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if c.UDPAddr == "" {
		bad("udp_addr", "is empty")
	} else if _, err := netip.ParseAddrPort(c.UDPAddr); err != nil {
		bad("udp_addr", "%q is not an ip:port address", c.UDPAddr)
	}
	for i, ip := range c.PublicIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			bad(fmt.Sprintf("public_ips[%d]", i), "%q is not an IP address", ip)
		}
	}
	for i, s := range c.ICEServers {
		if len(s.URLs) == 0 {
			bad(fmt.Sprintf("ice_servers[%d].urls", i), "list at least one stun: or turn: URL")
		}
		for j, u := range s.URLs {
			scheme, _, _ := strings.Cut(u, ":")
			switch scheme {
			case "stun", "stuns":
			case "turn", "turns":
				if s.Username == "" || s.Credential == "" {
					bad(fmt.Sprintf("ice_servers[%d]", i), "a TURN server needs username and credential")
				}
			default:
				bad(fmt.Sprintf("ice_servers[%d].urls[%d]", i, j), "%q is not a stun:, stuns:, turn: or turns: URL", u)
			}
		}
	}
	if c.HeartbeatTimeout < 0 {
		bad("heartbeat_timeout", "must not be negative, got %s", c.HeartbeatTimeout)
	}
	if c.ReloadGrace < 0 {
		bad("reload_grace", "must not be negative, got %s", c.ReloadGrace)
	}
	return errors.Join(errs...)
}

// withDefaults fills zero durations.
func (c Config) withDefaults() Config {
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if c.ReloadGrace == 0 {
		c.ReloadGrace = DefaultReloadGrace
	}
	if c.AudioGrace == 0 {
		c.AudioGrace = DefaultAudioGrace
	}
	return c
}

// udpAddr parses UDPAddr (already validated).
func (c Config) udpAddr() (*net.UDPAddr, error) {
	ap, err := netip.ParseAddrPort(c.UDPAddr)
	if err != nil {
		return nil, fmt.Errorf("softphone: udp_addr %q: %w", c.UDPAddr, err)
	}
	return net.UDPAddrFromAddrPort(ap), nil
}
