package config

import (
	"strings"

	"thunderline/hotpath/decide/spec"
)

// Edgar configures the filings path `thunderline run` runs beside the
// market feed (and `thunderline edgar ingest` reads its defaults from):
// filings from a directory or an EDGAR-style site, on their own flow
// partitions by CIK, into their own router, journaled beside the run.
type Edgar struct {
	// Dir reads every file under it, in path order. Exactly one of Dir and
	// URL, or neither (no filings).
	Dir string `yaml:"dir"`
	// URL is an EDGAR-style site (https://www.sec.gov); DataURL the root of
	// its api/ paths (https://data.sec.gov) [URL].
	URL     string `yaml:"url"`
	DataURL string `yaml:"data_url"`
	// UserAgent is declared on every request; the SEC asks for a name and a
	// contact e-mail. Required with URL.
	UserAgent string `yaml:"user_agent"`
	// Rate is requests per second, retries included [10, the SEC's limit].
	Rate float64 `yaml:"rate"`
	// State is the resumable progress file [<journal root>/edgar-state.jsonl].
	State string `yaml:"state"`
	// Indexes, Forms, CIKs and CompanyFacts select what URL fetches.
	Indexes      []string `yaml:"indexes"`
	Forms        []string `yaml:"forms"`
	CIKs         []uint64 `yaml:"ciks"`
	CompanyFacts bool     `yaml:"companyfacts"`
	// Partitions are the flow partitions filings are parsed on, by CIK
	// [the profile's partitions].
	Partitions int `yaml:"partitions"`
	// Router is a router config file for the filings [the embedded
	// profiles/router/edgar.yaml].
	Router string `yaml:"router"`
	// ScorerURL is a sentiment model (POST text, JSON counts); a call slower
	// than ScorerTimeout [1s] falls back to the word list.
	ScorerURL     string   `yaml:"scorer_url"`
	ScorerTimeout Duration `yaml:"scorer_timeout"`
}

// Enabled reports whether the profile has a filings source.
func (e *Edgar) Enabled() bool { return e.Dir != "" || e.URL != "" }

func (e *Edgar) validate() error {
	fail := spec.Fieldf
	switch {
	case e.Dir != "" && e.URL != "":
		return fail("edgar", "give dir or url, not both")
	case e.URL != "" && !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://"):
		return fail("edgar.url", "%q: want http:// or https://", e.URL)
	case e.URL != "" && !strings.Contains(e.UserAgent, "@"):
		return fail("edgar.user_agent", "%q: the SEC's fair-access policy asks for a name and a contact e-mail", e.UserAgent)
	case e.Rate < 0:
		return fail("edgar.rate", "%g: must not be negative", e.Rate)
	case e.Partitions < 0 || e.Partitions > 256:
		return fail("edgar.partitions", "%d: want 1 to 256", e.Partitions)
	case e.ScorerTimeout < 0:
		return fail("edgar.scorer_timeout", "must not be negative")
	case e.URL != "":
		return nil
	}
	for _, sel := range []struct {
		key string
		set bool
	}{{"edgar.indexes", len(e.Indexes) > 0}, {"edgar.forms", len(e.Forms) > 0}, {"edgar.ciks", len(e.CIKs) > 0},
		{"edgar.companyfacts", e.CompanyFacts}, {"edgar.data_url", e.DataURL != ""}} {
		if sel.set {
			return fail(sel.key, "indexes, forms, ciks, companyfacts and data_url select what url fetches; url is not set")
		}
	}
	return nil
}
