package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"thunderline/adapters/edgar/source"
	"thunderline/engine/config"
	"thunderline/persist/journal"
)

// isJournalDir reports whether dir holds journal segments.
func isJournalDir(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.tlj"))
	return len(m) > 0
}

// isEdgarJournal reports whether a journal was written by an EDGAR run:
// its first records after the meta are EDGAR documents, not ticks.
func isEdgarJournal(dir string) bool {
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
		case RecEdgarRaw, RecEdgarDoc, RecEdgarReject:
			return true
		case RecTick, RecSymbol:
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

// replayFilings replays filing directories: with Verify, twice (the
// requested partitions, then one) and the digests compared.
func replayFilings(ctx context.Context, dirs []string, ro ReplayOptions) (*Summary, error) {
	once := func(parts int, journalDir string) (*EdgarSummary, error) {
		return RunEdgar(ctx, &multiDir{dirs: dirs}, EdgarOptions{Profile: ro.Profile, Partitions: parts, Inputs: dirs,
			JournalDir: journalDir, Logger: ro.Logger})
	}
	es, err := once(ro.Partitions, ro.JournalDir)
	sum := &Summary{Inputs: dirs, Edgar: es}
	if err == nil && es.Docs == es.Rejected {
		err = fmt.Errorf("replay: %s: neither a journal (no segment files) nor filings (%d files, none an EDGAR document this engine reads)",
			strings.Join(dirs, ", "), es.Docs)
	}
	if err != nil || !ro.Verify {
		return sum, err
	}
	again, err := once(1, "")
	if err != nil {
		return sum, err
	}
	es.Verify = &EdgarVerified{Partitions: []int{es.Partitions, 1}, Equal: edgarDigestsEqual(es, again)}
	if !es.Verify.Equal {
		return sum, fmt.Errorf("%w: two replays of the same filings gave window digests %s and %s", ErrVerify, es.WindowDigest, again.WindowDigest)
	}
	return sum, nil
}

func edgarDigestsEqual(a, b *EdgarSummary) bool {
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
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", dir, err)
	}
	k, _, p, err := r.Next()
	if err != nil || k != RecMeta {
		r.Close()
		return nil, fmt.Errorf("journal %s: first record is not a meta record", dir)
	}
	return &journalDocs{r: r, meta: append([]byte(nil), p...)}, nil
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
		case RecRouter:
			j.rc = append([]byte(nil), p...)
		case RecEnd:
			j.end = append([]byte(nil), p...)
		case RecEdgarRaw:
			e, err := decodeEdgarRaw(p)
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

// replayEdgarJournal re-derives an EDGAR run from the raw documents it
// journaled, with the profile and router it recorded; with Verify, the
// digests must equal the ones the run recorded in its end record.
func replayEdgarJournal(ctx context.Context, dir string, ro ReplayOptions) (*Summary, error) {
	src, err := openJournalDocs(dir)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	prof, err := decodeMeta(src.meta, dir)
	if err != nil {
		return nil, err
	}
	// The router record comes right after the meta record.
	eo := EdgarOptions{Profile: prof, Partitions: ro.Partitions, Inputs: []string{dir}, Logger: ro.Logger}
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
	es, err := RunEdgar(ctx, &prepended{first: first, has: hasFirst, src: src}, eo)
	sum := &Summary{Inputs: []string{dir}, Edgar: es}
	if err != nil || !ro.Verify {
		return sum, err
	}
	var rec EdgarSummary
	if src.end == nil {
		return sum, fmt.Errorf("%w: the journal has no end record (the run did not finish)", ErrVerify)
	}
	if err := json.Unmarshal(src.end, &rec); err != nil {
		return sum, fmt.Errorf("journal end record: %w", err)
	}
	es.Verify = &EdgarVerified{Partitions: []int{rec.Partitions, es.Partitions}, Equal: edgarDigestsEqual(es, &rec)}
	if !es.Verify.Equal {
		return sum, fmt.Errorf("%w: the journal recorded window digest %s, its replay gives %s", ErrVerify, rec.WindowDigest, es.WindowDigest)
	}
	return sum, nil
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

func routerYAMLOf(rc *config.Router) ([]byte, error) { return yaml.Marshal(rc) }

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isMarketFile(p string) bool {
	return strings.HasSuffix(p, ".dbn") || strings.HasSuffix(p, ".dbn.zst")
}
