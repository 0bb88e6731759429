package source

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testUA = "Thunderline Tests ops@thunderline.example"

// filing is one real SGML sample with the facts of its header.
type filing struct {
	file    string // accession.txt under shared/data/edgar/sgml
	cik     uint64
	company string
	form    string
	filed   string // YYYY-MM-DD
}

func (f filing) path() string { return fmt.Sprintf("Archives/edgar/data/%d/%s", f.cik, f.file) }

// In form.idx order (sorted by form type).
var samples = []filing{
	{"0000950129-95-001652.txt", 810271, "COMMON SENSE TRUST", "24F-2NT", "1995-12-28"},
	{"0001213900-25-032135.txt", 1173313, "ABVC BIOPHARMA, INC.", "8-K", "2025-04-15"},
	{"0001104659-25-002604.txt", 1376139, "CVR ENERGY INC", "SC TO-T/A", "2025-01-10"},
}

const indexPath = "Archives/edgar/daily-index/2025/QTR2/form.20250415.idx"

// formIndex writes a daily form index in the real fixed-width layout, with
// the real header.
func formIndex(t testing.TB, fs []filing) []byte {
	t.Helper()
	real := string(readSample(t, "index/form.20200318.idx"))
	lines := strings.SplitAfter(real, "\n")
	var b strings.Builder
	for _, l := range lines[:10] { // preamble, column titles and the rule
		b.WriteString(l)
	}
	for _, f := range fs {
		fmt.Fprintf(&b, "%-12s%-62s%-12d%-12s%-52s\n", f.form, f.company, f.cik, strings.ReplaceAll(f.filed, "-", ""), "edgar/data/"+fmt.Sprint(f.cik)+"/"+f.file)
	}
	return []byte(b.String())
}

// edgarServer is an EDGAR-style site over a map of paths. It records every
// request: per-path counts, start times and User-Agent headers.
type edgarServer struct {
	*httptest.Server
	mu     sync.Mutex
	files  map[string][]byte
	hooks  map[string]func(n int, w http.ResponseWriter) bool // n: 1-based request count of the path; true: answered
	counts map[string]int
	starts []time.Time
	uas    []string
}

func newEdgarServer(t *testing.T) *edgarServer {
	s := &edgarServer{files: map[string][]byte{}, hooks: map[string]func(int, http.ResponseWriter) bool{}, counts: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		p := strings.TrimPrefix(r.URL.Path, "/")
		s.mu.Lock()
		s.starts = append(s.starts, start)
		s.uas = append(s.uas, r.Header.Get("User-Agent"))
		s.counts[p]++
		n := s.counts[p]
		hook := s.hooks[p]
		body, ok := s.files[p]
		s.mu.Unlock()
		if hook != nil && hook(n, w) {
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *edgarServer) count(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[p]
}

func (s *edgarServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.starts)
}

// withSamples serves the three SGML samples, their form index and the real
// companyfacts answer.
func (s *edgarServer) withSamples(t *testing.T) *edgarServer {
	for _, f := range samples {
		s.files[f.path()] = readSample(t, "sgml/"+f.file)
	}
	s.files[indexPath] = formIndex(t, samples)
	s.files["api/xbrl/companyfacts/CIK0001997711.json"] = readSample(t, "json/CIK0001997711.companyfacts.json")
	return s
}

func testConfig(t *testing.T, srv *edgarServer) HTTPConfig {
	return HTTPConfig{
		BaseURL:    srv.URL,
		UserAgent:  testUA,
		RatePerSec: 1000,
		BackoffMin: time.Millisecond,
		BackoffMax: 2 * time.Millisecond,
		Timeout:    10 * time.Second,
		StateFile:  filepath.Join(t.TempDir(), "edgar.state"),
		Indexes:    []string{indexPath},
	}
}

func newSource(t *testing.T, cfg HTTPConfig) *HTTPSource {
	t.Helper()
	s, err := NewHTTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// take calls Next n times (n < 0: until io.EOF) with a deadline.
func take(t *testing.T, s *HTTPSource, n int) []Doc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var docs []Doc
	for n < 0 || len(docs) < n {
		d, err := s.Next(ctx)
		if errors.Is(err, io.EOF) && n < 0 {
			break
		}
		if err != nil {
			t.Fatalf("Next after %d docs: %v", len(docs), err)
		}
		docs = append(docs, d)
	}
	return docs
}

// checkFilings checks that docs are the filings want, in order, with
// their index fields and bodies; what describes want in the message when
// the count differs.
func checkFilings(t *testing.T, docs []Doc, what string, want ...filing) {
	t.Helper()
	if len(docs) != len(want) {
		t.Fatalf("got %q, want %s", names(docs), what)
	}
	for i, f := range want {
		d, body := docs[i], readSample(t, "sgml/"+f.file)
		if d.Name != f.path() || d.Kind != KindSGML || d.CIK != f.cik || d.Form != f.form || d.Filed != f.filed {
			t.Errorf("doc = {%s %v %d %q %q}, want {%s sgml %d %q %q}", d.Name, d.Kind, d.CIK, d.Form, d.Filed, f.path(), f.cik, f.form, f.filed)
		}
		if sha256.Sum256(d.Body) != sha256.Sum256(body) {
			t.Errorf("%s: body sha256 differs from the file (%d vs %d bytes)", d.Name, len(d.Body), len(body))
		}
	}
}

func TestHTTPDeliversFilingsAndCompanyFacts(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	cfg := testConfig(t, srv)
	cfg.CompanyFacts = true
	cfg.CIKs = []uint64{810271, 1376139, 1173313, 1997711} // the last has no filing in the index
	s := newSource(t, cfg)
	docs := take(t, s, -1)
	if len(docs) != 4 {
		t.Fatalf("got %q, want 3 filings and 1 companyfacts", names(docs))
	}
	checkFilings(t, docs[:3], "3 filings", samples...)
	cf := docs[3]
	wantCF := readSample(t, "json/CIK0001997711.companyfacts.json")
	if cf.Name != "api/xbrl/companyfacts/CIK0001997711.json" || cf.Kind != KindCompanyFacts || cf.CIK != 1997711 || cf.Form != "" || cf.Filed != "" ||
		sha256.Sum256(cf.Body) != sha256.Sum256(wantCF) {
		t.Errorf("companyfacts doc = {%s %v %d %q %q, %d bytes}", cf.Name, cf.Kind, cf.CIK, cf.Form, cf.Filed, len(cf.Body))
	}
	// The three filers have no companyfacts on this server: 404, not retried, listed.
	fails := s.Failures()
	if len(fails) != 3 {
		t.Fatalf("Failures = %v, want 3", fails)
	}
	for i, n := range []uint64{810271, 1376139, 1173313} {
		p := fmt.Sprintf("api/xbrl/companyfacts/CIK%010d.json", n)
		if fails[i].URL != srv.URL+"/"+p || fails[i].Status != http.StatusNotFound || fails[i].Err == nil {
			t.Errorf("failure %d = %+v, want 404 for %s", i, fails[i], p)
		}
		if c := srv.count(p); c != 1 {
			t.Errorf("%s requested %d times, want 1 (404 is not retried)", p, c)
		}
	}
	srv.mu.Lock()
	uas := slices.Clone(srv.uas)
	srv.mu.Unlock()
	if len(uas) != 8 || int64(len(uas)) != s.Requests() {
		t.Errorf("server saw %d requests, source counted %d, want 8 (index, 3 filings, 4 companyfacts)", len(uas), s.Requests())
	}
	for i, ua := range uas {
		if ua != testUA {
			t.Errorf("request %d User-Agent %q, want %q", i, ua, testUA)
		}
	}
	var sum int64
	for _, d := range docs {
		sum += int64(len(d.Body))
	}
	if s.Bytes() < sum+int64(len(srv.files[indexPath])) {
		t.Errorf("Bytes() = %d, want at least %d", s.Bytes(), sum)
	}
	if s.Retries() != 0 || s.BadIndexLines() != 0 {
		t.Errorf("Retries %d, BadIndexLines %d; want 0, 0", s.Retries(), s.BadIndexLines())
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close = %v, want ErrClosed", err)
	}
}

func TestHTTPRateLimit(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	// 22 filings (the 3 samples and 19 more paths serving their bytes) and
	// one of them answering 503 twice: 1 + 22 + 2 = 25 requests.
	fs := slices.Clone(samples)
	for i := range 19 {
		f := samples[i%3]
		f.file = fmt.Sprintf("0000000000-25-%06d.txt", i)
		srv.files[f.path()] = readSample(t, "sgml/"+samples[i%3].file)
		fs = append(fs, f)
	}
	srv.files[indexPath] = formIndex(t, fs)
	srv.hooks[fs[5].path()] = func(n int, w http.ResponseWriter) bool {
		if n <= 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	const rate = 20
	cfg := testConfig(t, srv)
	cfg.RatePerSec, cfg.Burst = rate, 1
	s := newSource(t, cfg)
	begin := time.Now()
	docs := take(t, s, -1)
	elapsed := time.Since(begin)
	if len(docs) != 22 {
		t.Fatalf("got %d docs, want 22", len(docs))
	}
	srv.mu.Lock()
	starts := slices.Clone(srv.starts)
	srv.mu.Unlock()
	const n = 25
	if len(starts) != n {
		t.Fatalf("server saw %d requests, want %d", len(starts), n)
	}
	// Lower bounds only, and from the client's start: the limiter lets
	// request i go no sooner than begin + i/rate, and the server sees it
	// later still. (A gap between two starts the server saw is no bound: a
	// loaded machine can make it see one request late and the next on time.)
	for i := range n {
		if earliest := begin.Add(time.Duration(i) * time.Second / rate); starts[i].Before(earliest) {
			t.Errorf("request %d started %v after the first Next, want at least %v", i, starts[i].Sub(begin), earliest.Sub(begin))
		}
	}
	if want := (n - 1) * time.Second / rate; elapsed < want {
		t.Errorf("%d requests took %v, want at least %v", n, elapsed, want)
	}
	if s.ThrottledWaits() == 0 || s.Retries() != 2 {
		t.Errorf("ThrottledWaits %d, Retries %d; want > 0 and 2", s.ThrottledWaits(), s.Retries())
	}
}

func TestHTTPRetries(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	missing := filing{"0000000000-25-000404.txt", 320193, "APPLE INC", "10-K", "2025-01-02"}
	srv.files[indexPath] = formIndex(t, append(slices.Clone(samples), missing))
	flaky, broken := samples[0].path(), samples[1].path()
	srv.hooks[flaky] = func(n int, w http.ResponseWriter) bool {
		if n <= 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	srv.hooks[broken] = func(_ int, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusInternalServerError)
		return true
	}
	cfg := testConfig(t, srv)
	cfg.Retries = 3
	s := newSource(t, cfg)
	docs := take(t, s, -1)
	checkFilings(t, docs, "the flaky and the last filing", samples[0], samples[2])
	fails := s.Failures()
	if len(fails) != 2 {
		t.Fatalf("Failures = %+v, want the broken and the missing filing", fails)
	}
	if f := fails[0]; f.URL != srv.URL+"/"+broken || f.Status != 500 || f.Err == nil || !strings.Contains(f.Err.Error(), "status 500") || !strings.Contains(f.Err.Error(), "fetch "+srv.URL) {
		t.Errorf("failure 0 = %+v, want 500 for %s", f, broken)
	}
	if f := fails[1]; f.URL != srv.URL+"/"+missing.path() || f.Status != 404 {
		t.Errorf("failure 1 = %+v, want 404 for %s", f, missing.path())
	}
	for p, want := range map[string]int{flaky: 3, broken: 1 + cfg.Retries, samples[2].path(): 1, missing.path(): 1} {
		if got := srv.count(p); got != want {
			t.Errorf("%s requested %d times, want %d", p, got, want)
		}
	}
	if got := s.Retries(); got != 2+int64(cfg.Retries) {
		t.Errorf("Retries() = %d, want %d", got, 2+cfg.Retries)
	}
}

func TestHTTPNetworkErrorRetried(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	p := samples[0].path()
	srv.hooks[p] = func(n int, w http.ResponseWriter) bool {
		if n == 1 {
			panic(http.ErrAbortHandler) // the connection is cut without an answer
		}
		return false
	}
	cfg := testConfig(t, srv)
	// No kept-alive connections: the transport then never resends a GET by
	// itself after a broken connection, so every resend is the source's.
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	cfg.Client = &http.Client{Transport: tr}
	s := newSource(t, cfg)
	checkFilings(t, take(t, s, 1), "the first filing", samples[0])
	if got := srv.count(p); got != 2 || s.Retries() != 1 {
		t.Errorf("requested %d times with %d retries, want 2 and 1", got, s.Retries())
	}
}

func TestHTTPRetryAfterHonoured(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	p := samples[0].path()
	srv.hooks[p] = func(_ int, w http.ResponseWriter) bool {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	s := newSource(t, testConfig(t, srv)) // backoff of at most 2ms: only Retry-After can hold it
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	d, err := s.Next(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %s, %v; want to be waiting out Retry-After when ctx ends", d.Name, err)
	}
	if got := srv.count(p); got != 1 || len(s.Failures()) != 0 {
		t.Errorf("requested %d times, failures %v; want 1 and none", got, s.Failures())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f := func(v string, want time.Duration) {
		t.Helper()
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
	f("", -1)
	f("0", 0)
	f("7", 7*time.Second)
	f("-3", -1)
	f("soon", -1)
	f("99999999999", 24*time.Hour)
	f(now.Add(90*time.Second).Format(http.TimeFormat), 90*time.Second)
	f(now.Add(-time.Hour).Format(http.TimeFormat), 0)
}

func stateLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestHTTPResume(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	cfg := testConfig(t, srv)

	s1 := newSource(t, cfg)
	checkFilings(t, take(t, s1, 2), "the first two filings", samples[0], samples[1])
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if lines := stateLines(t, cfg.StateFile); len(lines) != 3 || !strings.Contains(lines[0], indexPath) || !strings.Contains(lines[2], samples[1].path()) {
		t.Fatalf("state after run 1 = %q, want the index and 2 filings", lines)
	}
	// A crash in the middle of an append leaves a torn line.
	f, err := os.OpenFile(cfg.StateFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"name":"Archives/edgar/data/1376139/0001104659-25-0`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s2 := newSource(t, cfg)
	checkFilings(t, take(t, s2, -1), "only the third filing in run 2", samples[2])
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{indexPath, samples[0].path(), samples[1].path(), samples[2].path()} {
		if got := srv.count(p); got != 1 {
			t.Errorf("%s requested %d times over both runs, want 1", p, got)
		}
	}
	lines := stateLines(t, cfg.StateFile)
	if len(lines) != 4 || !strings.HasPrefix(lines[3], `{"name":"`+samples[2].path()+`"`) {
		t.Errorf("state after run 2 = %q, want 4 whole lines (the torn one cut off)", lines)
	}

	// A third run has nothing left to do and asks for nothing.
	before := srv.total()
	s3 := newSource(t, cfg)
	if docs := take(t, s3, -1); len(docs) != 0 || srv.total() != before {
		t.Errorf("run 3 yielded %q with %d requests, want nothing", names(docs), srv.total()-before)
	}
	s3.Close()
}

func TestHTTPRedeliversUnacknowledged(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	cfg := testConfig(t, srv)
	s1 := newSource(t, cfg)
	take(t, s1, 2)
	s1.state.close() // the process dies: no further Next, no Close
	s2 := newSource(t, cfg)
	checkFilings(t, take(t, s2, -1), "the unacknowledged second filing and the third in run 2", samples[1], samples[2])
	s2.Close()
	if got := srv.count(samples[0].path()); got != 1 {
		t.Errorf("acknowledged filing requested %d times, want 1", got)
	}
}

func TestHTTPIndexCopy(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	cfg := testConfig(t, srv)
	s1 := newSource(t, cfg)
	take(t, s1, 1)
	s1.Close()
	// The index changes on the site, but a fetched index is not fetched again.
	srv.files[indexPath] = formIndex(t, samples[:1])
	s2 := newSource(t, cfg)
	if docs := take(t, s2, -1); len(docs) != 2 || srv.count(indexPath) != 1 {
		t.Fatalf("run 2 yielded %q with %d index fetches, want 2 docs from the kept copy", names(docs), srv.count(indexPath))
	}
	s2.Close()
	// Without its local copy, the index is fetched again, and what is done stays done.
	if err := os.RemoveAll(cfg.StateFile + ".indexes"); err != nil {
		t.Fatal(err)
	}
	srv.files[indexPath] = formIndex(t, samples)
	s3 := newSource(t, cfg)
	if docs := take(t, s3, -1); len(docs) != 0 || srv.count(indexPath) != 2 {
		t.Errorf("run 3 yielded %q with %d index fetches, want nothing and 2", names(docs), srv.count(indexPath))
	}
	s3.Close()
}

func TestHTTPFilters(t *testing.T) {
	f := func(forms []string, ciks []uint64, want ...filing) {
		t.Helper()
		srv := newEdgarServer(t).withSamples(t)
		cfg := testConfig(t, srv)
		cfg.Forms, cfg.CIKs = forms, ciks
		s := newSource(t, cfg)
		docs := take(t, s, -1)
		s.Close()
		checkFilings(t, docs, fmt.Sprintf("%d docs for Forms %q CIKs %v", len(want), forms, ciks), want...)
		for _, sm := range samples {
			if c, sel := srv.count(sm.path()), slices.Contains(want, sm); c != 0 && !sel {
				t.Errorf("Forms %q CIKs %v: unselected %s was requested", forms, ciks, sm.path())
			}
		}
	}
	f(nil, nil, samples...)
	f([]string{"8-K"}, nil, samples[1])
	f([]string{"SC TO-T/A", "24F-2NT"}, nil, samples[0], samples[2])
	f([]string{"10-K"}, nil)
	f([]string{"8-K/A"}, nil) // exact match only
	f(nil, []uint64{810271, 1376139}, samples[0], samples[2])
	f([]string{"8-K"}, []uint64{810271})
	f([]string{"8-K"}, []uint64{1173313, 810271}, samples[1])
}

func TestHTTPIndexLayouts(t *testing.T) {
	var master, company strings.Builder
	master.WriteString("Description:           Master Index of EDGAR Dissemination Feed\n\nCIK|Company Name|Form Type|Date Filed|Filename\n" + strings.Repeat("-", 80) + "\n")
	company.WriteString(strings.Join(strings.SplitAfter(string(readSample(t, "index/company.20221003.idx")), "\n")[:11], ""))
	for _, f := range samples {
		fmt.Fprintf(&master, "%d|%s|%s|%s|edgar/data/%d/%s\n", f.cik, f.company, f.form, f.filed, f.cik, f.file)
		fmt.Fprintf(&company, "%-62s%-12s%-12d%-12s%s\n", f.company, f.form, f.cik, strings.ReplaceAll(f.filed, "-", ""), "edgar/data/"+fmt.Sprint(f.cik)+"/"+f.file)
	}
	srv := newEdgarServer(t).withSamples(t)
	srv.files["Archives/edgar/full-index/2025/QTR2/master.idx"] = []byte(master.String())
	srv.files["Archives/edgar/daily-index/2025/QTR2/company.20250415.idx"] = []byte(company.String())
	cfg := testConfig(t, srv)
	cfg.Indexes = []string{"Archives/edgar/full-index/2025/QTR2/master.idx", "Archives/edgar/daily-index/2025/QTR2/company.20250415.idx", indexPath}
	s := newSource(t, cfg)
	docs := take(t, s, -1)
	s.Close()
	// Each filing once, though all three indexes list it.
	checkFilings(t, docs, "3 filings", samples...)
	for i := range samples {
		if c := srv.count(samples[i].path()); c != 1 {
			t.Errorf("%s requested %d times, want 1", samples[i].path(), c)
		}
	}
}

func TestHTTPBadIndex(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	srv.files["Archives/edgar/daily-index/garbage.idx"] = []byte("<html>Not an index</html>")
	idx := formIndex(t, samples)
	idx = append(idx, "8-K         BROKEN LINE                                                   notacik     20250415    edgar/data/1/x.txt\n"...)
	srv.files[indexPath] = idx
	cfg := testConfig(t, srv)
	cfg.Indexes = []string{"Archives/edgar/daily-index/garbage.idx", "Archives/edgar/daily-index/missing.idx", indexPath}
	s := newSource(t, cfg)
	docs := take(t, s, -1)
	s.Close()
	if len(docs) != 3 || s.BadIndexLines() != 1 {
		t.Fatalf("got %q with %d bad lines, want 3 filings and 1 bad line", names(docs), s.BadIndexLines())
	}
	fails := s.Failures()
	if len(fails) != 2 || fails[0].Status != 200 || !strings.Contains(fails[0].Err.Error(), "parse index") || fails[1].Status != 404 {
		t.Errorf("Failures = %+v, want the unparsable index and the 404 one", fails)
	}
}

func TestStateCorruptBeforeLastLine(t *testing.T) {
	srv := newEdgarServer(t)
	cfg := testConfig(t, srv)
	good := `{"name":"a","url":"u","sha256":"` + strings.Repeat("ab", 32) + `","bytes":1,"fetched":"2025-01-01T00:00:00Z"}`
	if err := os.WriteFile(cfg.StateFile, []byte(good+"\nnot json\n"+good+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewHTTP(cfg); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("NewHTTP over a corrupt state = %v, want an error naming line 2", err)
	}
}

func TestHTTPConfigValidate(t *testing.T) {
	base := func() HTTPConfig {
		return HTTPConfig{BaseURL: "https://www.sec.gov", UserAgent: "Acme Research admin@acme.example", StateFile: "/tmp/x", Indexes: []string{indexPath}}
	}
	f := func(field string, mut func(c *HTTPConfig)) {
		t.Helper()
		c := base()
		mut(&c)
		err := c.Validate()
		if field == "" {
			if err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
			return
		}
		if err == nil || !strings.HasPrefix(err.Error(), "edgar http source: "+field+":") {
			t.Errorf("Validate = %v, want an error naming %s", err, field)
		}
		if _, nerr := NewHTTP(c); nerr == nil || !strings.Contains(nerr.Error(), field) {
			t.Errorf("NewHTTP = %v, want an error naming %s", nerr, field)
		}
	}
	f("", func(c *HTTPConfig) {})
	f("", func(c *HTTPConfig) { c.UserAgent = "Sample Company Name AdminContact@samplecompany.com" })
	f("", func(c *HTTPConfig) { c.UserAgent = "Acme (mailto:<ops@acme.co.uk>)" })
	f("", func(c *HTTPConfig) { c.RatePerSec = 0 })  // the default, 10
	f("", func(c *HTTPConfig) { c.RatePerSec = 25 }) // above the SEC's limit: allowed for mirrors and tests
	f("", func(c *HTTPConfig) { c.Indexes = nil; c.CompanyFacts = true; c.CIKs = []uint64{320193} })
	f("UserAgent", func(c *HTTPConfig) { c.UserAgent = "" })
	f("UserAgent", func(c *HTTPConfig) { c.UserAgent = "   " })
	f("UserAgent", func(c *HTTPConfig) { c.UserAgent = "Acme Research" })
	f("UserAgent", func(c *HTTPConfig) { c.UserAgent = "Acme admin@localhost" })
	f("UserAgent", func(c *HTTPConfig) { c.UserAgent = "Acme @acme.example" })
	f("UserAgent", func(c *HTTPConfig) { c.UserAgent = "Acme a@acme.example\r\nX-Evil: 1" })
	f("RatePerSec", func(c *HTTPConfig) { c.RatePerSec = -1 })
	f("RatePerSec", func(c *HTTPConfig) { c.RatePerSec = math.NaN() })
	f("RatePerSec", func(c *HTTPConfig) { c.RatePerSec = math.Inf(1) })
	f("StateFile", func(c *HTTPConfig) { c.StateFile = "" })
	f("BaseURL", func(c *HTTPConfig) { c.BaseURL = "" })
	f("BaseURL", func(c *HTTPConfig) { c.BaseURL = "ftp://ftp.sec.gov" })
	f("BaseURL", func(c *HTTPConfig) { c.BaseURL = "https://" })
	f("BaseURL", func(c *HTTPConfig) { c.BaseURL = "www.sec.gov" })
	f("BaseURL", func(c *HTTPConfig) { c.BaseURL = "https://www.sec.gov/?q=1" })
	f("BaseURL", func(c *HTTPConfig) { c.BaseURL = "http://a b" })
	f("DataBaseURL", func(c *HTTPConfig) { c.DataBaseURL = "data.sec.gov" })
	f("Burst", func(c *HTTPConfig) { c.Burst = -1 })
	f("BackoffMin", func(c *HTTPConfig) { c.BackoffMin = -time.Second })
	f("BackoffMax", func(c *HTTPConfig) { c.BackoffMin, c.BackoffMax = time.Second, time.Millisecond })
	f("Timeout", func(c *HTTPConfig) { c.Timeout = -1 })
	f("MaxBytes", func(c *HTTPConfig) { c.MaxBytes = -1 })
	f("Indexes", func(c *HTTPConfig) { c.Indexes = nil })
	f("Indexes[1]", func(c *HTTPConfig) { c.Indexes = []string{indexPath, "../secret"} })
	f("Indexes[0]", func(c *HTTPConfig) { c.Indexes = []string{"/Archives/x.idx"} })
	f("Forms[0]", func(c *HTTPConfig) { c.Forms = []string{" "} })
	f("CIKs[0]", func(c *HTTPConfig) { c.CIKs = []uint64{0} })
	f("CIKs[0]", func(c *HTTPConfig) { c.CIKs = []uint64{12345678901} })

	d := base().withDefaults()
	if d.RatePerSec != SECMaxRatePerSec || d.Burst != 1 || d.Retries != 5 || d.BackoffMin != 500*time.Millisecond ||
		d.BackoffMax != 30*time.Second || d.Timeout != 30*time.Second || d.MaxBytes != DefaultMaxBytes || d.DataBaseURL != d.BaseURL {
		t.Errorf("defaults = %+v", d)
	}
}

func TestBackoffJitter(t *testing.T) {
	srv := newEdgarServer(t)
	cfg := testConfig(t, srv)
	cfg.BackoffMin, cfg.BackoffMax = 100*time.Millisecond, time.Second
	s := newSource(t, cfg)
	defer s.Close()
	seen := map[time.Duration]bool{}
	for range 20 {
		bo := s.newBackoff()
		for attempt := range 8 {
			// The interval doubles from BackoffMin up to BackoffMax; the
			// delay is within ±50% of it, never above BackoffMax.
			interval := min(cfg.BackoffMax, cfg.BackoffMin<<attempt)
			lo, hi := interval/2, min(cfg.BackoffMax, interval*3/2)
			d := s.nextBackoff(bo)
			if d < lo || d > hi {
				t.Errorf("attempt %d: delay %v outside [%v, %v]", attempt, d, lo, hi)
			}
			seen[d] = true
		}
	}
	if len(seen) < 100 {
		t.Errorf("%d distinct delays in 160: no jitter", len(seen))
	}
}

func TestHTTPRedirectRateLimited(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	moved := samples[0].path()
	srv.files["moved/"+samples[0].file] = srv.files[moved]
	srv.hooks[moved] = func(_ int, w http.ResponseWriter) bool {
		w.Header().Set("Location", "/moved/"+samples[0].file)
		w.WriteHeader(http.StatusMovedPermanently)
		return true
	}
	const rate = 20
	cfg := testConfig(t, srv)
	cfg.RatePerSec = rate
	s := newSource(t, cfg)
	begin := time.Now()
	checkFilings(t, take(t, s, 1), "the first filing", samples[0]) // named as listed, whatever the redirect
	s.Close()
	srv.mu.Lock()
	starts, uas := slices.Clone(srv.starts), slices.Clone(srv.uas)
	srv.mu.Unlock()
	// index, the listed path, the redirect target
	if len(starts) != 3 || s.Requests() != 3 || srv.count("moved/"+samples[0].file) != 1 {
		t.Fatalf("server saw %d requests, source counted %d; want 3", len(starts), s.Requests())
	}
	// As in TestHTTPRateLimit: the third request goes no sooner than 2/rate
	// after the first Next.
	if got, want := starts[2].Sub(begin), 2*time.Second/rate; got < want {
		t.Errorf("redirect followed %v after the first Next, want at least %v", got, want)
	}
	if uas[2] != testUA {
		t.Errorf("redirected request User-Agent %q", uas[2])
	}
}

func TestHTTPMaxBytes(t *testing.T) {
	srv := newEdgarServer(t).withSamples(t)
	cfg := testConfig(t, srv)
	cfg.MaxBytes = 20000 // the 1995 filing (10,112 bytes) fits, the 2025 ones do not
	s := newSource(t, cfg)
	docs := take(t, s, -1)
	s.Close()
	checkFilings(t, docs, "only the small filing", samples[0])
	fails := s.Failures()
	if len(fails) != 2 || !errors.Is(fails[0].Err, errTooBig) || !errors.Is(fails[1].Err, errTooBig) {
		t.Fatalf("Failures = %+v, want 2 over MaxBytes", fails)
	}
	for _, f := range samples[1:] {
		if c := srv.count(f.path()); c != 1 {
			t.Errorf("%s requested %d times, want 1 (too big is not retried)", f.path(), c)
		}
	}
}
