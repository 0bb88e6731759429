package runjournal

import (
	"net/url"
	"regexp"
	"strings"

	"thunderline/engine/config"
)

// Redacted is what stands in for a secret in a journaled profile.
const Redacted = "REDACTED"

// redactedEnv replaces an inline admin token: the recorded profile stays
// valid (a replay parses it) and names no secret.
const redactedEnv = "THUNDERLINE_REDACTED_TOKEN"

var dsnPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redact returns a copy of p fit for the journal: inline admin token values
// and the Postgres DSN's password are replaced (the roles, user and host
// stay), since a journal is copied, shipped and kept far longer than a
// secret should be.
func redact(p *config.Profile) *config.Profile {
	c := *p
	c.Admin.Tokens = append([]config.AdminToken(nil), p.Admin.Tokens...)
	for i := range c.Admin.Tokens {
		if c.Admin.Tokens[i].Value != "" {
			c.Admin.Tokens[i].Value, c.Admin.Tokens[i].ValueEnv = "", redactedEnv
		}
	}
	c.Postgres.DSN = RedactDSN(c.Postgres.DSN)
	return &c
}

// RedactDSN replaces the password of a PostgreSQL connection string, in
// URL form (postgres://user:pw@host/db, and ?password=) or key=value form.
func RedactDSN(dsn string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return Redacted // unparseable: keep nothing
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Redacted)
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", Redacted)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return dsnPassword.ReplaceAllString(dsn, "${1}"+Redacted)
}
