package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"thunderline/adapters/edgar/edgarrec"
	"thunderline/adapters/edgar/filings"
	"thunderline/adapters/edgar/source"
	"thunderline/adapters/edgar/text"
	"thunderline/engine/config"
	"thunderline/engine/edgar"
)

const edgarUsage = `Usage:
  thunderline edgar ingest [flags] DIR|URL
      Run the EDGAR path on its own: read filings from a directory (every
      file under it, in path order) or from an EDGAR-style HTTP site (its
      index files, then the filing archives they list, then companyfacts),
      parse, split sections, compute text features and fundamentals, build
      EDGAR feature windows per CIK, route them through the profile's router
      and journal everything (raw documents included).
  thunderline edgar parse [--json] [--text] FILE
      Print one document as parsed: cik, form, filing time, period end,
      sections with their lengths, facts with concept, value, unit, period
      and dimensions.
`

func cmdEdgar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, edgarUsage)
		return usagef("edgar: want a subcommand: ingest or parse")
	}
	switch args[0] {
	case "ingest":
		return cmdEdgarIngest(ctx, args[1:], stdout, stderr)
	case "parse":
		return cmdEdgarParse(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, edgarUsage)
		return nil
	}
	fmt.Fprint(stderr, edgarUsage)
	return usagef("edgar: unknown subcommand %q", args[0])
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, strings.Split(v, ",")...); return nil }

func cmdEdgarIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("edgar ingest", stderr)
	profile := fs.String("profile", "", "profile YAML `file` (tenant, router, journal, postgres; default: the embedded minimal profile)")
	parts := fs.Int("partitions", 0, "flow partitions by CIK (default: the profile's; results do not depend on it)")
	journalDir := fs.String("journal", "", "journal `dir` (default: edgar-<UTC time> under the profile's journal root)")
	noJournal := fs.Bool("no-journal", false, "do not journal")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	routerFile := fs.String("router", "", "router config `file` for the filings (default: the embedded profiles/router/edgar.yaml)")
	ua := fs.String("user-agent", os.Getenv("THUNDERLINE_EDGAR_USER_AGENT"), "HTTP: the declared User-Agent, with a contact e-mail (SEC fair access); default $THUNDERLINE_EDGAR_USER_AGENT")
	rate := fs.Float64("rate", source.SECMaxRatePerSec, "HTTP: requests per second, retries included (the SEC allows 10)")
	state := fs.String("state", "", "HTTP: resumable progress `file` (default: edgar-state.jsonl under the profile's journal root)")
	var indexes, forms, ciks listFlag
	fs.Var(&indexes, "index", "HTTP: index `path` relative to the site, e.g. Archives/edgar/daily-index/2020/QTR1/form.20200318.idx (repeatable)")
	fs.Var(&forms, "form", "HTTP: keep only these form types, e.g. 10-K,10-Q (repeatable)")
	fs.Var(&ciks, "cik", "HTTP: keep only these CIKs (repeatable)")
	companyFacts := fs.Bool("companyfacts", false, "HTTP: also fetch each selected company's XBRL companyfacts JSON")
	dataURL := fs.String("data-url", "", "HTTP: root of the api/ paths (companyfacts); at the SEC https://data.sec.gov (default: the site URL)")
	scorerURL := fs.String("scorer-url", "", "sentiment model `url` (POST text, JSON counts back); slower than --scorer-timeout or failing falls back to the word list")
	scorerTimeout := fs.Duration("scorer-timeout", time.Second, "time limit of one sentiment model call")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("edgar ingest: want one DIR or URL")
	}
	prof, err := loadProfile(*profile)
	if err != nil {
		return err
	}
	var in string
	switch {
	case len(pos) == 1:
		in = pos[0]
	case prof.Edgar.Enabled():
		in = prof.Edgar.Dir + prof.Edgar.URL
	default:
		return usagef("edgar ingest: want a DIR or URL, or a --profile with an edgar section")
	}
	var src source.Source
	if len(pos) == 0 {
		if src, err = edgar.OpenSource(prof); err != nil {
			return err
		}
	} else if strings.HasPrefix(in, "http://") || strings.HasPrefix(in, "https://") {
		cfg := source.HTTPConfig{BaseURL: in, DataBaseURL: *dataURL, UserAgent: *ua, RatePerSec: *rate, StateFile: *state,
			Indexes: indexes, Forms: forms, CompanyFacts: *companyFacts}
		if cfg.StateFile == "" {
			cfg.StateFile = filepath.Join(prof.JournalRoot(), "edgar-state.jsonl")
			if err := os.MkdirAll(prof.JournalRoot(), 0o755); err != nil {
				return err
			}
		}
		for _, c := range ciks {
			v, err := strconv.ParseUint(strings.TrimSpace(c), 10, 64)
			if err != nil {
				return usagef("--cik %q: not a number", c)
			}
			cfg.CIKs = append(cfg.CIKs, v)
		}
		s, err := source.NewHTTP(cfg)
		if err != nil {
			return usageError{err}
		}
		defer func() {
			for _, f := range s.Failures() {
				fmt.Fprintf(stderr, "edgar: fetch failed: %s: status %d: %s\n", f.URL, f.Status, f.Err)
			}
		}()
		src = s
	} else {
		s, err := source.Dir(in, source.DirOptions{})
		if err != nil {
			return err
		}
		defer func() {
			for _, sk := range s.Skipped() {
				fmt.Fprintf(stderr, "edgar: skipped %s: %s\n", sk.Name, sk.Reason)
			}
		}()
		src = s
	}
	defer src.Close()
	eo, err := edgar.OptionsFor(prof)
	if err != nil {
		return err
	}
	eo.Inputs = []string{in}
	if *parts > 0 {
		eo.Partitions = *parts
	}
	if *scorerURL != "" {
		eo.Scorer, eo.ScorerTimeout = text.HTTPScorer{URL: *scorerURL}, *scorerTimeout
	}
	if *routerFile != "" {
		if eo.Router, err = config.LoadRouter(*routerFile); err != nil {
			return err
		}
	}
	if !*noJournal && prof.JournalEnabled() {
		eo.JournalDir = *journalDir
		if eo.JournalDir == "" {
			eo.JournalDir = filepath.Join(prof.JournalRoot(), "edgar-"+time.Now().UTC().Format("20060102T150405.000Z"))
		}
	}
	if isTerminal(stderr) {
		eo.ProgressEvery = 200 * time.Millisecond
		eo.Progress = func(p edgar.Counts) {
			fmt.Fprintf(stderr, "\r\033[Kdocs %d (%.1f MB)  windows %d  traces %d  rejected %d  %s",
				p.Docs, float64(p.Bytes)/1e6, p.Windows, p.Traces, p.Rejected, p.Elapsed.Truncate(time.Millisecond))
		}
		defer fmt.Fprint(stderr, "\r\033[K")
	}
	sum, err := edgar.Run(ctx, src, eo)
	if sum != nil {
		printSummary(stdout, sum, *jsonOut)
	}
	return err
}

// parsedJSON is `edgar parse --json`.
type parsedJSON struct {
	Name        string        `json:"name"`
	Kind        string        `json:"kind"`
	SHA256      string        `json:"sha256"`
	Bytes       uint64        `json:"bytes"`
	CIK         uint64        `json:"cik"`
	Company     string        `json:"company,omitempty"`
	Form        string        `json:"form"`
	Accession   string        `json:"accession,omitempty"`
	FilingTime  string        `json:"filing_time,omitempty"`
	PeriodEnd   string        `json:"period_end,omitempty"`
	Sections    []sectionJSON `json:"sections"`
	Facts       []factJSON    `json:"facts"`
	Issues      []string      `json:"issues"`
	Filings     []filingJSON  `json:"filings"` // what the document says about each filing: the fundamentals used
	Meta        bool          `json:"meta,omitempty"`
	ParseMillis float64       `json:"parse_ms"`
	Memory      *memJSON      `json:"memory,omitempty"`
}

// memJSON is `edgar parse --mem`: the process's peak resident set after
// reading the file (the baseline) and after parsing it, and what the parse
// allocated in all.
type memJSON struct {
	PeakRSSBeforeParse uint64 `json:"peak_rss_before_parse_bytes"`
	PeakRSS            uint64 `json:"peak_rss_bytes"`
	ParseAllocBytes    uint64 `json:"parse_alloc_bytes"`
}

// peakRSS is the process's peak resident set (Linux VmHWM), 0 elsewhere.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				v, _ := strconv.ParseUint(f[0], 10, 64)
				return v << 10
			}
		}
	}
	return 0
}

type sectionJSON struct {
	Part  string `json:"part,omitempty"`
	Item  string `json:"item"`
	Title string `json:"title"`
	Chars int    `json:"chars"`
	Text  string `json:"text,omitempty"`
}

type factJSON struct {
	Concept  string            `json:"concept"`
	Value    string            `json:"value"`
	Unit     string            `json:"unit,omitempty"`
	Decimals string            `json:"decimals,omitempty"`
	Period   string            `json:"period,omitempty"`
	Dims     map[string]string `json:"dimensions,omitempty"`
}

type filingJSON struct {
	CIK       uint64             `json:"cik"`
	Form      string             `json:"form"`
	PeriodEnd string             `json:"period_end"`
	Accession string             `json:"accession,omitempty"`
	Facts     []edgarrec.FactRef `json:"fundamentals"`
	Sections  int                `json:"sections"`
	Missing   []string           `json:"sections_missing,omitempty"`
}

func fmtNs(ns int64, layout string) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(layout)
}

func cmdEdgarParse(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("edgar parse", stderr)
	jsonOut := fs.Bool("json", false, "print the document as JSON")
	withText := fs.Bool("text", false, "include section texts")
	mem := fs.Bool("mem", false, "report memory: peak resident set (VmHWM) before and after parsing, and bytes allocated by the parse")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("edgar parse: want one FILE")
	}
	body, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	kind := source.Sniff(pos[0], body)
	var before runtime.MemStats
	hwmBefore := peakRSS()
	runtime.ReadMemStats(&before)
	start := time.Now()
	p, err := filings.Parse(pos[0], filings.Kind(kind.String()), body)
	if err != nil {
		return err
	}
	el := time.Since(start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	hwmAfter := peakRSS()
	d := &p.Doc
	out := parsedJSON{Name: d.Name, Kind: kind.String(), SHA256: fmt.Sprintf("%x", d.Raw), Bytes: d.Size, CIK: d.CIK, Company: d.Company,
		Form: d.Form, Accession: d.Accession, FilingTime: fmtNs(d.FilingTime, time.RFC3339), PeriodEnd: fmtNs(d.PeriodEnd, "2006-01-02"),
		Sections: []sectionJSON{}, Facts: []factJSON{}, Issues: d.Issues, Meta: p.Meta, Filings: []filingJSON{},
		ParseMillis: float64(el.Microseconds()) / 1000}
	if out.Issues == nil {
		out.Issues = []string{}
	}
	if *mem {
		out.Memory = &memJSON{PeakRSSBeforeParse: hwmBefore, PeakRSS: hwmAfter, ParseAllocBytes: after.TotalAlloc - before.TotalAlloc}
	}
	for _, s := range d.Sections {
		sj := sectionJSON{Part: s.Part, Item: s.Item, Title: s.Title, Chars: len(s.Text)}
		if *withText {
			sj.Text = s.Text
		}
		out.Sections = append(out.Sections, sj)
	}
	for _, f := range d.Facts {
		fj := factJSON{Concept: f.Concept, Value: f.Value, Unit: f.Unit, Decimals: f.Decimals, Period: f.End}
		if f.Start != "" {
			fj.Period = f.Start + ".." + f.End
		}
		if len(f.Dims) > 0 {
			fj.Dims = map[string]string{}
			for _, dm := range f.Dims {
				fj.Dims[dm.Axis] = dm.Member
			}
		}
		out.Facts = append(out.Facts, fj)
	}
	for _, pt := range p.Parts {
		fj := filingJSON{CIK: pt.Key.CIK, Form: pt.Key.Form, PeriodEnd: fmtNs(pt.Key.PeriodEnd, "2006-01-02"), Accession: pt.Accession,
			Sections: len(pt.Sections), Missing: pt.SectionsMissing}
		if pt.Facts != nil {
			fj.Facts = pt.Facts.Refs
		}
		out.Filings = append(out.Filings, fj)
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "%s (%s, %d bytes, parsed in %.1f ms)\n", out.Name, out.Kind, out.Bytes, out.ParseMillis)
	if out.Meta {
		fmt.Fprintln(stdout, "  an index or submissions list: no filing content")
		return nil
	}
	fmt.Fprintf(stdout, "  cik %d  %s  form %s  accession %s\n  filed %s  period end %s\n", out.CIK, out.Company, out.Form,
		orDash(out.Accession), orDash(out.FilingTime), orDash(out.PeriodEnd))
	fmt.Fprintf(stdout, "  sections %d:\n", len(out.Sections))
	for _, s := range out.Sections {
		fmt.Fprintf(stdout, "    %-4s %-4s %-60.60s %8d chars\n", s.Part, s.Item, s.Title, s.Chars)
	}
	fmt.Fprintf(stdout, "  facts %d\n", len(out.Facts))
	for _, f := range out.Filings {
		fmt.Fprintf(stdout, "  filing cik %d form %s period end %s:\n", f.CIK, f.Form, f.PeriodEnd)
		for _, r := range f.Facts {
			fmt.Fprintf(stdout, "    %-20s %-60s %20s %s %s\n", r.Role, r.Concept, r.Value, r.Unit, r.Period)
		}
		for _, m := range f.Missing {
			fmt.Fprintf(stdout, "    section missing: %s\n", m)
		}
	}
	if len(out.Issues) > 0 {
		fmt.Fprintf(stdout, "  issues %d (first: %s)\n", len(out.Issues), out.Issues[0])
	}
	if m := out.Memory; m != nil {
		fmt.Fprintf(stdout, "  memory: peak RSS %.1f MB (%.1f MB before parsing), parse allocated %.1f MB\n",
			float64(m.PeakRSS)/1e6, float64(m.PeakRSSBeforeParse)/1e6, float64(m.ParseAllocBytes)/1e6)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
