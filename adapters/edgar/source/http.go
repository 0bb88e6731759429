package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Failure is a URL given up on: a status that is not retried (404, 403,
// ...), retries exhausted, a body over MaxBytes, or an unreadable index.
// The run goes on with the next URL; a failed URL is not in the state file,
// so the next run tries it again.
type Failure struct {
	URL    string
	Status int // the last HTTP status, 0 for a network error
	Err    error
}

// item is one URL to fetch and yield.
type item struct {
	name  string // relative to the base: Doc.Name and the state key
	url   string
	cik   uint64
	form  string
	filed string
}

// HTTPSource fetches an EDGAR-style site (see the package doc). Next and
// Close must be called from one goroutine at a time; Failures and the
// counters may be read from any goroutine.
type HTTPSource struct {
	cfg      HTTPConfig
	client   *http.Client
	log      *slog.Logger
	lim      *limiter
	state    *stateLog
	cacheDir string
	forms    map[string]bool
	ciks     map[uint64]bool

	// progress, owned by the goroutine calling Next
	idxPos  int
	queue   []item
	qpos    int
	cfCIKs  []uint64 // CIKs for companyfacts, in order of first appearance
	cfSeen  map[uint64]bool
	cfDone  bool
	pending *stateRecord // the last Doc returned, acknowledged by the next Next or Close
	closed  bool

	mu       sync.Mutex
	failures []Failure

	requests, retries, bytes, throttled, badLines atomic.Int64
}

// NewHTTP validates cfg, reads the state file and returns the source.
// Nothing is fetched before the first Next.
func NewHTTP(cfg HTTPConfig) (*HTTPSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("edgar http source: %w", err)
	}
	cfg = cfg.withDefaults()
	st, err := openState(cfg.StateFile)
	if err != nil {
		return nil, err
	}
	s := &HTTPSource{
		cfg:      cfg,
		log:      cfg.Logger,
		lim:      newLimiter(cfg.RatePerSec, cfg.Burst),
		state:    st,
		cacheDir: cfg.StateFile + ".indexes",
		cfSeen:   make(map[uint64]bool),
	}
	if cfg.RatePerSec > SECMaxRatePerSec {
		s.log.Warn("edgar source: RatePerSec is above the SEC's published limit", "rate", cfg.RatePerSec, "limit", SECMaxRatePerSec)
	}
	if len(cfg.Forms) > 0 {
		s.forms = make(map[string]bool, len(cfg.Forms))
		for _, f := range cfg.Forms {
			s.forms[f] = true
		}
	}
	if len(cfg.CIKs) > 0 {
		s.ciks = make(map[uint64]bool, len(cfg.CIKs))
		for _, n := range cfg.CIKs {
			s.ciks[n] = true
			s.addCompanyFactsCIK(n)
		}
	}
	// A copy of the client whose redirects also wait for the limiter.
	c := http.Client{}
	if cfg.Client != nil {
		c = *cfg.Client
	}
	prev := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if err := s.waitTurn(req.Context()); err != nil {
			return err
		}
		s.requests.Add(1)
		if prev != nil {
			return prev(req, via)
		}
		return nil
	}
	s.client = &c
	return s, nil
}

func (s *HTTPSource) addCompanyFactsCIK(n uint64) {
	if !s.cfSeen[n] {
		s.cfSeen[n] = true
		s.cfCIKs = append(s.cfCIKs, n)
	}
}

// Next returns the next document: the selected filings of each index in
// index order, then the companyfacts answers; io.EOF after the last. A URL
// recorded in the state file is skipped without a request. A URL that fails
// is recorded in Failures and skipped. Calling Next acknowledges the
// document the previous call returned (see the package doc). The error is
// ctx's when ctx ends, or a state-file write error; Next may be called
// again after either and resumes where it stopped.
func (s *HTTPSource) Next(ctx context.Context) (Doc, error) {
	if s.closed {
		return Doc{}, ErrClosed
	}
	if err := s.ack(); err != nil {
		return Doc{}, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return Doc{}, err
		}
		if s.qpos < len(s.queue) {
			it := s.queue[s.qpos]
			if _, done := s.state.done[it.name]; done {
				s.qpos++
				s.log.Debug("edgar source: already done", "name", it.name)
				continue
			}
			body, status, err := s.fetch(ctx, it.url)
			if err != nil {
				if ctx.Err() != nil {
					return Doc{}, err // qpos not advanced: the next call retries it
				}
				s.qpos++
				s.fail(it.url, status, err)
				continue
			}
			s.qpos++
			s.pending = &stateRecord{Name: it.name, URL: it.url, SHA256: sha256Hex(body), Bytes: int64(len(body)), Fetched: time.Now().UTC()}
			return Doc{Name: it.name, Body: body, Kind: Sniff(it.name, body), CIK: it.cik, Form: it.form, Filed: it.filed}, nil
		}
		if s.idxPos < len(s.cfg.Indexes) {
			if err := s.loadIndex(ctx, s.cfg.Indexes[s.idxPos]); err != nil {
				return Doc{}, err // ctx ended or the state could not be written; idxPos not advanced
			}
			s.idxPos++
			continue
		}
		if !s.cfDone {
			s.cfDone = true
			s.queue, s.qpos = s.queue[:0], 0
			if s.cfg.CompanyFacts {
				for _, n := range s.cfCIKs {
					name := fmt.Sprintf("api/xbrl/companyfacts/CIK%010d.json", n)
					s.queue = append(s.queue, item{name: name, url: s.cfg.DataBaseURL + "/" + name, cik: n})
				}
			}
			continue
		}
		return Doc{}, io.EOF
	}
}

// ack writes the state line of the document the previous Next returned.
func (s *HTTPSource) ack() error {
	if s.pending == nil {
		return nil
	}
	if err := s.state.append(*s.pending); err != nil {
		return err
	}
	s.pending = nil
	return nil
}

// loadIndex reads one index (from the local copy if a previous run fetched
// it, else from the site) and queues its selected entries. A fetch failure
// or an unreadable index is a Failure, not an error; the error is ctx's or
// a local write failure.
func (s *HTTPSource) loadIndex(ctx context.Context, name string) error {
	url := s.cfg.BaseURL + "/" + name
	var body []byte
	if rec, ok := s.state.done[name]; ok {
		b, err := os.ReadFile(filepath.Join(s.cacheDir, rec.SHA256))
		if err == nil && sha256Hex(b) == rec.SHA256 {
			body = b
		} else {
			s.log.Warn("edgar source: local copy of a fetched index is missing or damaged; fetching again", "index", name, "err", err)
		}
	}
	if body == nil {
		b, status, err := s.fetch(ctx, url)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			s.fail(url, status, err)
			return nil
		}
		sum := sha256Hex(b)
		if err := os.MkdirAll(s.cacheDir, 0o755); err != nil {
			return fmt.Errorf("keep index %s: %w", name, err)
		}
		if err := writeFileSync(filepath.Join(s.cacheDir, sum), b); err != nil {
			return fmt.Errorf("keep index %s: %w", name, err)
		}
		if err := s.state.append(stateRecord{Name: name, URL: url, SHA256: sum, Bytes: int64(len(b)), Fetched: time.Now().UTC()}); err != nil {
			return err
		}
		body = b
	}
	entries, bad, firstBad, err := ParseIndex(body)
	if err != nil {
		s.fail(url, http.StatusOK, fmt.Errorf("parse index %s: %w", url, err))
		return nil
	}
	if bad > 0 {
		s.badLines.Add(int64(bad))
		s.log.Warn("edgar source: unreadable index lines skipped", "index", name, "count", bad, "first", firstBad)
	}
	s.queue, s.qpos = s.queue[:0], 0
	kept := 0
	for _, e := range entries {
		if s.forms != nil && !s.forms[e.Form] || s.ciks != nil && !s.ciks[e.CIK] {
			continue
		}
		// A filing listed by an earlier index too is in the state by the
		// time it comes up again (the caller took it), so it is skipped then.
		kept++
		p := e.path()
		s.queue = append(s.queue, item{name: p, url: s.cfg.BaseURL + "/" + p, cik: e.CIK, form: e.Form, filed: e.Filed})
		s.addCompanyFactsCIK(e.CIK)
	}
	s.log.Info("edgar source: index read", "index", name, "entries", len(entries), "selected", kept, "queued", len(s.queue))
	return nil
}

var errTooBig = errors.New("response exceeds MaxBytes")

// fetch GETs url with the limiter and the retry policy. On failure it
// returns the last status (0 if none) and an error wrapped with the URL.
func (s *HTTPSource) fetch(ctx context.Context, url string) ([]byte, int, error) {
	bo := s.newBackoff()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.retries.Add(1)
		}
		if err := s.waitTurn(ctx); err != nil {
			return nil, 0, fmt.Errorf("fetch %s: %w", url, err)
		}
		body, status, retryAfter, err := s.get(ctx, url)
		if ctx.Err() != nil {
			return nil, status, fmt.Errorf("fetch %s: %w", url, ctx.Err())
		}
		if err == nil && status == http.StatusOK {
			return body, status, nil
		}
		retry := err != nil && !errors.Is(err, errTooBig) ||
			status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
		if err == nil {
			err = fmt.Errorf("status %d", status)
		}
		if !retry || attempt >= s.cfg.Retries {
			return nil, status, fmt.Errorf("fetch %s: %w (after %d attempts)", url, err, attempt+1)
		}
		delay := s.nextBackoff(bo)
		if retryAfter >= 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
			delay = retryAfter
		}
		s.log.Debug("edgar source: retrying", "url", url, "status", status, "err", err, "delay", delay, "attempt", attempt+1)
		if err := sleep(ctx, delay); err != nil {
			return nil, status, fmt.Errorf("fetch %s: %w", url, err)
		}
	}
}

// get sends one request. retryAfter is -1 when the answer has none.
func (s *HTTPSource) get(ctx context.Context, url string) (body []byte, status int, retryAfter time.Duration, err error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, -1, err
	}
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	s.requests.Add(1)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, 0, -1, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		n, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		s.bytes.Add(n)
		return nil, resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
	}
	body, err = readLimited(resp.Body, s.cfg.MaxBytes)
	s.bytes.Add(int64(len(body)))
	if err != nil {
		return nil, resp.StatusCode, -1, err
	}
	return body, resp.StatusCode, -1, nil
}

// waitTurn waits for the limiter and counts a wait.
func (s *HTTPSource) waitTurn(ctx context.Context) error {
	waited, err := s.lim.wait(ctx)
	if waited {
		s.throttled.Add(1)
	}
	return err
}

// backoffJitter is the retry delay's RandomizationFactor: a delay is
// uniform in [1-j, 1+j] times the current interval.
const backoffJitter = 0.5

// newBackoff is the retry policy of one URL: an interval doubling from
// BackoffMin up to BackoffMax, each delay jittered by ±backoffJitter.
func (s *HTTPSource) newBackoff() *backoff.ExponentialBackOff {
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     s.cfg.BackoffMin,
		RandomizationFactor: backoffJitter,
		Multiplier:          2,
		MaxInterval:         s.cfg.BackoffMax,
	}
	bo.Reset()
	return bo
}

// nextBackoff is bo's next delay, capped at BackoffMax (the jitter may
// otherwise take it up to 1.5 times the interval).
func (s *HTTPSource) nextBackoff(bo *backoff.ExponentialBackOff) time.Duration {
	return min(bo.NextBackOff(), s.cfg.BackoffMax)
}

// parseRetryAfter reads delay-seconds or an HTTP date; -1 if absent or bad.
// A delay is honoured as given up to a cap of one day (ctx still cancels).
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return -1
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return -1
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

func (s *HTTPSource) fail(url string, status int, err error) {
	s.log.Warn("edgar source: giving up on a URL", "url", url, "status", status, "err", err)
	s.mu.Lock()
	s.failures = append(s.failures, Failure{URL: url, Status: status, Err: err})
	s.mu.Unlock()
}

// Close acknowledges the last document Next returned (its state line is
// written) and closes the state file. Next then returns ErrClosed.
func (s *HTTPSource) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.ack()
	if cerr := s.state.close(); err == nil {
		err = cerr
	}
	return err
}

// Failures returns the URLs given up on so far, in order.
func (s *HTTPSource) Failures() []Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.failures)
}

// Requests is the number of HTTP requests sent, retries and redirects included.
func (s *HTTPSource) Requests() int64 { return s.requests.Load() }

// Retries is the number of retry attempts.
func (s *HTTPSource) Retries() int64 { return s.retries.Load() }

// Bytes is the number of response body bytes read.
func (s *HTTPSource) Bytes() int64 { return s.bytes.Load() }

// ThrottledWaits is the number of requests the rate limiter held back.
func (s *HTTPSource) ThrottledWaits() int64 { return s.throttled.Load() }

// BadIndexLines is the number of index lines that could not be read and
// were skipped.
func (s *HTTPSource) BadIndexLines() int64 { return s.badLines.Load() }

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readLimited reads r to the end, failing with errTooBig past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	n := limit
	if n < 1<<62 {
		n++
	}
	b, err := io.ReadAll(io.LimitReader(r, n))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return b, fmt.Errorf("%w %d", errTooBig, limit)
	}
	return b, nil
}
