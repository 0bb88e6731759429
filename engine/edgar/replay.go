package edgar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"thunderline/adapters/edgar/source"
	"thunderline/engine/config"
	"thunderline/engine/runjournal"
	"thunderline/persist/journal"
)

// IsJournal reports whether a journal was written by an EDGAR run: its
// first records after the meta are EDGAR documents, not ticks.
func IsJournal(dir string) bool {
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		return false
	}
	defer r.Close()
	for i := 0; i < 64; i++ {
		k, _, _, err := r.Next()
		if err != nil {
			return false
		}
		switch k {
		case runjournal.RecEdgarRaw, runjournal.RecEdgarDoc, runjournal.RecEdgarReject:
			return true
		case runjournal.RecTick, runjournal.RecSymbol:
			return false
		}
	}
	return false
}

// multiDir plays filing directories one after the other.
type multiDir struct {
	dirs []string
	cur  *source.DirSource
	i    int
}

func (m *multiDir) Next(ctx context.Context) (source.Doc, error) {
	for {
		if m.cur == nil {
			if m.i == len(m.dirs) {
				return source.Doc{}, io.EOF
			}
			d, err := source.Dir(m.dirs[m.i], source.DirOptions{})
			if err != nil {
				return source.Doc{}, err
			}
			m.cur, m.i = d, m.i+1
		}
		doc, err := m.cur.Next(ctx)
		if errors.Is(err, io.EOF) {
			m.cur.Close()
			m.cur = nil
			continue
		}
		if err == nil && len(m.dirs) > 1 {
			doc.Name = filepath.Base(m.dirs[m.i-1]) + "/" + doc.Name
		}
		return doc, err
	}
}

func (m *multiDir) Close() error {
	if m.cur != nil {
		return m.cur.Close()
	}
	return nil
}

// ReplayOptions configure a replay of filings (`thunderline replay` of
// filing directories or of an EDGAR run's journal).
type ReplayOptions struct {
	// Profile for filing directories (a journal brings its own). Default:
	// the embedded minimal profile.
	Profile    *config.Profile
	Partitions int
	Verify     bool
	Logger     *slog.Logger
	// JournalDir, when set, journals the replay of filing directories.
	JournalDir string
}

// ReplayDirs replays filing directories, one after the other: with Verify,
// twice (the requested partitions, then one) and the digests compared.
func ReplayDirs(ctx context.Context, dirs []string, ro ReplayOptions) (*Summary, error) {
	once := func(parts int, journalDir string) (*Summary, error) {
		return Run(ctx, &multiDir{dirs: dirs}, Options{Profile: ro.Profile, Partitions: parts, Inputs: dirs,
			JournalDir: journalDir, Logger: ro.Logger})
	}
	es, err := once(ro.Partitions, ro.JournalDir)
	if err == nil && es.Docs == es.Rejected {
		err = fmt.Errorf("replay: %s: neither a journal (no segment files) nor filings (%d files, none an EDGAR document this engine reads)",
			strings.Join(dirs, ", "), es.Docs)
	}
	if err != nil || !ro.Verify {
		return es, err
	}
	again, err := once(1, "")
	if err != nil {
		return es, err
	}
	es.Verify = &Verified{Partitions: []int{es.Partitions, 1}, Equal: digestsEqual(es, again)}
	if !es.Verify.Equal {
		return es, fmt.Errorf("%w: two replays of the same filings gave window digests %s and %s", runjournal.ErrVerify, es.WindowDigest, again.WindowDigest)
	}
	return es, nil
}

func digestsEqual(a, b *Summary) bool {
	return a.DocDigest == b.DocDigest && a.WindowDigest == b.WindowDigest && a.TraceDigest == b.TraceDigest
}

// journalDocs plays back the raw documents an EDGAR run journaled.
type journalDocs struct {
	r    *journal.Reader
	meta []byte
	rc   []byte     // the router config the run journaled
	end  []byte     // the run's end record
	part source.Doc // a document being reassembled from its chunks
	want uint32
}

func openJournalDocs(dir string) (*journalDocs, error) {
	r, meta, err := runjournal.OpenMeta(dir)
	if err != nil {
		return nil, err
	}
	return &journalDocs{r: r, meta: meta}, nil
}

func (j *journalDocs) Next(ctx context.Context) (source.Doc, error) {
	for {
		if err := ctx.Err(); err != nil {
			return source.Doc{}, err
		}
		k, off, p, err := j.r.Next()
		if err != nil {
			return source.Doc{}, err
		}
		switch k {
		case runjournal.RecRouter:
			j.rc = append([]byte(nil), p...)
		case runjournal.RecEnd:
			j.end = append([]byte(nil), p...)
		case runjournal.RecEdgarRaw:
			e, err := decodeRaw(p)
			if err != nil {
				return source.Doc{}, fmt.Errorf("journal record %d: %w", off, err)
			}
			if e.chunk == 0 {
				j.part = source.Doc{Name: e.name, Kind: e.kind}
				j.want = e.chunks
			} else if e.name != j.part.Name || e.chunks != j.want {
				return source.Doc{}, fmt.Errorf("journal record %d: chunk %d of %s out of order", off, e.chunk, e.name)
			}
			j.part.Body = append(j.part.Body, e.data...)
			if e.chunk+1 == e.chunks {
				d := j.part
				j.part = source.Doc{}
				return d, nil
			}
		}
	}
}

func (j *journalDocs) Close() error { return j.r.Close() }

// ReplayJournal re-derives an EDGAR run from the raw documents it
// journaled, with the profile and router it recorded; with Verify, the
// digests must equal the ones the run recorded in its end record. The
// summary is nil when the replay could not start.
func ReplayJournal(ctx context.Context, dir string, ro ReplayOptions) (*Summary, error) {
	src, err := openJournalDocs(dir)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	prof, err := runjournal.DecodeMeta(src.meta, dir)
	if err != nil {
		return nil, err
	}
	// The router record comes right after the meta record.
	eo := Options{Profile: prof, Partitions: ro.Partitions, Inputs: []string{dir}, Logger: ro.Logger}
	first, err := src.Next(ctx)
	hasFirst := err == nil
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if src.rc != nil {
		if eo.Router, err = config.ParseRouter(src.rc, dir+" (recorded router)"); err != nil {
			return nil, err
		}
	}
	es, err := Run(ctx, &prepended{first: first, has: hasFirst, src: src}, eo)
	if err != nil || !ro.Verify {
		return es, err
	}
	var rec Summary
	if src.end == nil {
		return es, fmt.Errorf("%w: the journal has no end record (the run did not finish)", runjournal.ErrVerify)
	}
	if err := json.Unmarshal(src.end, &rec); err != nil {
		return es, fmt.Errorf("journal end record: %w", err)
	}
	es.Verify = &Verified{Partitions: []int{rec.Partitions, es.Partitions}, Equal: digestsEqual(es, &rec)}
	if !es.Verify.Equal {
		return es, fmt.Errorf("%w: the journal recorded window digest %s, its replay gives %s", runjournal.ErrVerify, rec.WindowDigest, es.WindowDigest)
	}
	return es, nil
}

type prepended struct {
	first source.Doc
	has   bool
	src   source.Source
}

func (p *prepended) Next(ctx context.Context) (source.Doc, error) {
	if p.has {
		p.has = false
		return p.first, nil
	}
	return p.src.Next(ctx)
}

func (p *prepended) Close() error { return nil }
