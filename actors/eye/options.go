package eye

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultAddr is where the admin server listens by default: loopback only.
const DefaultAddr = "127.0.0.1:8470"

// Options configures a Server. The zero value of every field but Tokens is
// its default.
type Options struct {
	// Addr is host:port to listen on [127.0.0.1:8470]. Port 0 picks a free
	// port. A host that is not a loopback address (127.0.0.0/8, ::1 or
	// "localhost") is refused unless AllowRemote is set; an empty host
	// (":8470", every interface) is not loopback.
	Addr string
	// AllowRemote lets Addr be a non-loopback address. The server speaks
	// plain HTTP, so tokens then cross the network in clear: put it behind
	// a TLS-terminating proxy.
	AllowRemote bool
	// Tokens are the accepted bearer tokens and their roles; at least one.
	// When the configuration has none, the CLI makes one with
	// GenerateToken and prints it once.
	Tokens []Token
	// MaxBodyBytes caps a PUT /router body [1 MiB]; other request bodies
	// are capped at 64 KiB.
	MaxBodyBytes int64
	// Timeouts of the http.Server: ReadHeaderTimeout [5s], ReadTimeout
	// [30s], WriteTimeout [60s, above pprof's default 30 s profile],
	// IdleTimeout [10s]. /stream clears its read and write deadlines.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// MaxConns caps the open connections [256]: over it the oldest idle
	// keep-alive connection is closed, or the new one refused when none is
	// idle (counted). MaxStreams caps concurrent /stream requests [64]:
	// one more gets 503 (counted).
	MaxConns   int
	MaxStreams int
	// AllowedHosts are host names (besides IP addresses and "localhost")
	// a request's Host header may carry; any other gets 421 Misdirected
	// Request (a DNS-rebinding defence). Set it when a proxy or a DNS
	// name fronts the server.
	AllowedHosts []string
	// Registerer, when set, receives the server's own metrics
	// (thunderline_admin_requests_total by route and code,
	// thunderline_admin_auth_failures_total by reason).
	Registerer prometheus.Registerer
}

const smallBodyBytes = 64 << 10

func (o Options) withDefaults() Options {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.ReadHeaderTimeout == 0 {
		o.ReadHeaderTimeout = 5 * time.Second
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 30 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 60 * time.Second
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 10 * time.Second
	}
	if o.MaxConns == 0 {
		o.MaxConns = 256
	}
	if o.MaxStreams == 0 {
		o.MaxStreams = 64
	}
	return o
}

// Validate names the first bad field.
func (o Options) Validate() error {
	o = o.withDefaults()
	if err := checkAddr(o.Addr, o.AllowRemote); err != nil {
		return err
	}
	if o.MaxConns < 2 || o.MaxStreams < 1 || o.MaxStreams >= o.MaxConns {
		return fmt.Errorf("eye: Options.MaxConns %d and MaxStreams %d: want MaxConns ≥ 2 and 1 ≤ MaxStreams < MaxConns", o.MaxConns, o.MaxStreams)
	}
	if len(o.Tokens) == 0 {
		return errors.New("eye: Options.Tokens is empty: configure a token, or make one with GenerateToken")
	}
	seen := map[string]int{}
	for i, t := range o.Tokens {
		switch {
		case len(t.Value) < MinTokenLen:
			return fmt.Errorf("eye: Options.Tokens[%d].Value: %d bytes, want at least %d", i, len(t.Value), MinTokenLen)
		case t.Role < RoleReadOnly || t.Role > RoleAdmin:
			return fmt.Errorf("eye: Options.Tokens[%d].Role: want admin, operator or read_only", i)
		}
		for j := 0; j < len(t.Value); j++ {
			if c := t.Value[j]; c <= ' ' || c >= 0x7f {
				return fmt.Errorf("eye: Options.Tokens[%d].Value: byte %d is not a visible ASCII character", i, j)
			}
		}
		if j, dup := seen[t.Value]; dup {
			return fmt.Errorf("eye: Options.Tokens[%d].Value: same token as Options.Tokens[%d]", i, j)
		}
		seen[t.Value] = i
	}
	switch {
	case o.MaxBodyBytes < 1024:
		return fmt.Errorf("eye: Options.MaxBodyBytes %d: want at least 1024", o.MaxBodyBytes)
	case o.ReadHeaderTimeout < 0, o.ReadTimeout < 0, o.WriteTimeout < 0, o.IdleTimeout < 0:
		return errors.New("eye: Options timeouts must not be negative")
	}
	return nil
}

// checkAddr refuses a non-loopback address unless allowRemote.
func checkAddr(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("eye: Options.Addr %q: %w", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("eye: Options.Addr %q: bad port %q", addr, port)
	}
	if allowRemote || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("eye: Options.Addr %q is not a loopback address; set Options.AllowRemote to listen beyond this machine", addr)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
