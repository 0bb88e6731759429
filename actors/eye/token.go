package eye

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Role is what a token may do. Each role may do everything the roles
// before it may.
type Role uint8

// Roles, weakest first. roleNone is an unauthenticated request.
const (
	roleNone     Role = iota
	RoleReadOnly      // GET everything but /debug/pprof
	RoleOperator      // also the risk kill switch and expert restart, force, unforce
	RoleAdmin         // also PUT /router, retiring experts and /debug/pprof
)

// roleNames are the roles' names, by role; roleNone has none.
var roleNames = enumNames{RoleReadOnly: "read_only", RoleOperator: "operator", RoleAdmin: "admin"}

func (r Role) String() string { return roleNames.name(uint8(r), "none") }

// ParseRole reads "admin", "operator" or "read_only".
func ParseRole(s string) (Role, error) {
	if v, ok := roleNames.parse(s); ok {
		return Role(v), nil
	}
	return roleNone, fmt.Errorf("role %q: want admin, operator or read_only", s)
}

// MarshalText writes the role's name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a role's name (so a config file can hold roles).
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MinTokenLen is the shortest token accepted, in bytes.
const MinTokenLen = 16

// Token is a bearer token and its role. Its String, GoString and LogValue
// hide the value, so logging a Token by mistake does not leak it.
type Token struct {
	Value string
	Role  Role
}

func (t Token) String() string   { return "Token{role: " + t.Role.String() + ", value: REDACTED}" }
func (t Token) GoString() string { return t.String() }

// LogValue implements slog.LogValuer: the role only.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("role", t.Role.String()), slog.String("value", "REDACTED"))
}

// GenerateToken makes a random admin token: 256 bits from crypto/rand,
// URL-safe base64 after a "thl_" prefix (so secret scanners can spot it).
// The CLI calls it when no token is configured and prints it once.
func GenerateToken() (Token, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Token{}, fmt.Errorf("generate token: %w", err)
	}
	return Token{Value: "thl_" + base64.RawURLEncoding.EncodeToString(b[:]), Role: RoleAdmin}, nil
}

// authenticator holds the sha256 of each token, never the token itself.
// Comparing fixed-size digests means the comparison takes the same time
// whatever the length of the presented token, and every configured token is
// compared on every request (no early exit), so the timing says neither
// whether nor which token matched.
type authenticator struct {
	digests [][sha256.Size]byte
	roles   []Role
	// compare is subtle.ConstantTimeCompare; tests count its calls.
	compare func(a, b []byte) int
}

func newAuthenticator(tokens []Token) *authenticator {
	a := &authenticator{compare: subtle.ConstantTimeCompare}
	for _, t := range tokens {
		a.digests = append(a.digests, sha256.Sum256([]byte(t.Value)))
		a.roles = append(a.roles, t.Role)
	}
	return a
}

// role returns the role of the presented token, or roleNone.
func (a *authenticator) role(presented string) Role {
	d := sha256.Sum256([]byte(presented))
	role := int(roleNone)
	for i := range a.digests {
		eq := a.compare(d[:], a.digests[i][:])
		role = subtle.ConstantTimeSelect(eq, int(a.roles[i]), role)
	}
	return Role(role)
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	return strings.TrimSpace(h[len(p):]), true
}
