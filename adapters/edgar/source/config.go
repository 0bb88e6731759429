package source

import (
	"cmp"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SECMaxRatePerSec is the SEC's published fair-access limit: at most ten
// requests per second from one user, over all of its machines.
const SECMaxRatePerSec = 10

// HTTPConfig configures NewHTTP. A zero numeric field means its default.
type HTTPConfig struct {
	// BaseURL is the EDGAR site root, e.g. "https://www.sec.gov". Index and
	// archive paths are joined to it. Required; http or https, no query.
	BaseURL string
	// DataBaseURL is the root of the api/ paths (companyfacts). At the SEC
	// it is "https://data.sec.gov". Empty means BaseURL.
	DataBaseURL string
	// UserAgent is sent with every request. Required, and it must contain
	// a contact e-mail address, as the SEC asks: "Company Name
	// admin@example.com".
	UserAgent string
	// RatePerSec bounds all requests, retries included. Default 10, the
	// SEC's published maximum (SECMaxRatePerSec); more is allowed (for a
	// local mirror or a test server) and logged as a warning. Negative,
	// NaN or infinite is an error.
	RatePerSec float64
	// Burst is how many requests may go at once. Default 1.
	Burst int
	// Retries is how many times a request is retried after a network
	// error, 408, 429 or 5xx. Default 5; negative means none.
	Retries int
	// BackoffMin and BackoffMax bound the retry delay: an interval that
	// starts at BackoffMin and doubles per retry up to BackoffMax, each
	// delay drawn uniformly within ±50% of the interval and capped at
	// BackoffMax (cenkalti/backoff with RandomizationFactor 0.5; it was
	// "full jitter", uniform in [0, interval) from a seeded generator,
	// before the project took one backoff library). Defaults 500ms and
	// 30s. A Retry-After header on 429 or 503 replaces the delay.
	BackoffMin, BackoffMax time.Duration
	// Timeout bounds one request, body included. Default 30s.
	Timeout time.Duration
	// MaxBytes: a larger response is a failure. Default DefaultMaxBytes.
	MaxBytes int64
	// StateFile is the resumable progress log (see the package doc).
	// Required. Fetched indexes are kept beside it in StateFile+".indexes".
	StateFile string
	// Indexes are index paths relative to BaseURL, read in order, e.g.
	// "Archives/edgar/daily-index/2020/QTR1/form.20200318.idx" or
	// "Archives/edgar/full-index/2024/QTR1/master.idx". Form, company,
	// master and xbrl indexes are told apart by their column header.
	Indexes []string
	// Forms keeps only filings of these form types (exact match, e.g.
	// "10-K", "10-Q"). Empty keeps all.
	Forms []string
	// CIKs keeps only filings of these filers. Empty keeps all.
	CIKs []uint64
	// CompanyFacts also fetches api/xbrl/companyfacts/CIK##########.json,
	// after the filings, once for each CIK in CIKs or, when CIKs is empty,
	// for each distinct CIK of the selected filings, in order of first
	// appearance.
	CompanyFacts bool
	// Client sends the requests; nil means a client with the default
	// transport. Its redirects are rate limited like any request.
	Client *http.Client
	// Logger: nil discards.
	Logger *slog.Logger
}

// Validate reports the first bad field, by name.
func (c *HTTPConfig) Validate() error {
	if err := validBaseURL(c.BaseURL); err != nil {
		return fmt.Errorf("edgar http source: BaseURL: %w", err)
	}
	if c.DataBaseURL != "" {
		if err := validBaseURL(c.DataBaseURL); err != nil {
			return fmt.Errorf("edgar http source: DataBaseURL: %w", err)
		}
	}
	switch {
	case strings.TrimSpace(c.UserAgent) == "":
		return fmt.Errorf("edgar http source: UserAgent: required (the SEC asks for \"Company Name admin@example.com\")")
	case !printable(c.UserAgent):
		return fmt.Errorf("edgar http source: UserAgent: contains control characters")
	case !hasEmail(c.UserAgent):
		return fmt.Errorf("edgar http source: UserAgent: %q has no contact e-mail address (the SEC asks for \"Company Name admin@example.com\")", c.UserAgent)
	case c.RatePerSec < 0 || math.IsNaN(c.RatePerSec) || math.IsInf(c.RatePerSec, 0):
		return fmt.Errorf("edgar http source: RatePerSec: %v is not a positive rate", c.RatePerSec)
	case c.Burst < 0:
		return fmt.Errorf("edgar http source: Burst: %d is negative", c.Burst)
	case c.BackoffMin < 0:
		return fmt.Errorf("edgar http source: BackoffMin: %v is negative", c.BackoffMin)
	case c.BackoffMax < 0:
		return fmt.Errorf("edgar http source: BackoffMax: %v is negative", c.BackoffMax)
	case c.BackoffMin > 0 && c.BackoffMax > 0 && c.BackoffMin > c.BackoffMax:
		return fmt.Errorf("edgar http source: BackoffMax: %v is below BackoffMin %v", c.BackoffMax, c.BackoffMin)
	case c.Timeout < 0:
		return fmt.Errorf("edgar http source: Timeout: %v is negative", c.Timeout)
	case c.MaxBytes < 0:
		return fmt.Errorf("edgar http source: MaxBytes: %d is negative", c.MaxBytes)
	case c.StateFile == "":
		return fmt.Errorf("edgar http source: StateFile: required")
	case len(c.Indexes) == 0 && !(c.CompanyFacts && len(c.CIKs) > 0):
		return fmt.Errorf("edgar http source: Indexes: empty, and no CompanyFacts with CIKs: nothing to fetch")
	}
	for i, p := range c.Indexes {
		if !validPath(p) {
			return fmt.Errorf("edgar http source: Indexes[%d]: %q is not a relative path of [A-Za-z0-9._-] segments", i, p)
		}
	}
	for i, f := range c.Forms {
		if strings.TrimSpace(f) == "" {
			return fmt.Errorf("edgar http source: Forms[%d]: empty", i)
		}
	}
	for i, n := range c.CIKs {
		if n == 0 || n > 9999999999 {
			return fmt.Errorf("edgar http source: CIKs[%d]: %d is not a CIK (1 to 10 digits)", i, n)
		}
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c HTTPConfig) withDefaults() HTTPConfig {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.DataBaseURL = cmp.Or(c.DataBaseURL, c.BaseURL)
	c.DataBaseURL = strings.TrimRight(c.DataBaseURL, "/")
	c.RatePerSec = cmp.Or(c.RatePerSec, SECMaxRatePerSec)
	c.Burst = cmp.Or(c.Burst, 1)
	if c.Retries == 0 {
		c.Retries = 5
	} else if c.Retries < 0 {
		c.Retries = 0
	}
	c.BackoffMin = cmp.Or(c.BackoffMin, 500*time.Millisecond)
	c.BackoffMax = cmp.Or(c.BackoffMax, 30*time.Second)
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = c.BackoffMin
	}
	c.Timeout = cmp.Or(c.Timeout, 30*time.Second)
	c.MaxBytes = cmp.Or(c.MaxBytes, DefaultMaxBytes)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func validBaseURL(s string) error {
	if s == "" {
		return fmt.Errorf("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return fmt.Errorf("%q: no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q: must not carry a query, fragment or user info", s)
	}
	return nil
}

// hasEmail reports whether some blank-separated word of s looks like an
// e-mail address: local@domain.tld (surrounding <>()[],; allowed).
func hasEmail(s string) bool {
	for _, w := range strings.Fields(s) {
		w = strings.Trim(w, "<>()[],;\"'")
		at := strings.IndexByte(w, '@')
		if at <= 0 || at != strings.LastIndexByte(w, '@') {
			continue
		}
		labels := strings.Split(w[at+1:], ".")
		if len(labels) < 2 {
			continue
		}
		ok := true
		for _, l := range labels {
			if l == "" {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}
