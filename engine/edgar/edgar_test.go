package edgar

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"thunderline/adapters/edgar/edgarrec"
	"thunderline/adapters/edgar/source"
	"thunderline/adapters/edgar/text"
	"thunderline/engine/runjournal"
	"thunderline/hotpath/window"
	"thunderline/persist/journal"
)

const edgarData = "../../../shared/data/edgar"

func ingestDir(t *testing.T, dir string, o Options) *Summary {
	t.Helper()
	src, err := source.Dir(dir, source.DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sum, err := Run(context.Background(), src, o)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// Every sample parses; replaying the sample directory gives the same
// digests twice and whatever the number of partitions.
func TestEdgarSamplesDeterministic(t *testing.T) {
	var first *Summary
	for _, parts := range []int{1, 3, 1} {
		s := ingestDir(t, edgarData, Options{Partitions: parts})
		if s.Docs != 12 || s.Rejected != 0 || s.MetaDocs != 3 {
			t.Fatalf("partitions %d: docs %d rejected %d (%v) meta %d", parts, s.Docs, s.Rejected, s.Rejects, s.MetaDocs)
		}
		if s.Windows == 0 || s.Traces != s.Filings {
			t.Fatalf("partitions %d: windows %d, traces %d for %d filings", parts, s.Windows, s.Traces, s.Filings)
		}
		if first == nil {
			first = s
			continue
		}
		if s.DocDigest != first.DocDigest || s.WindowDigest != first.WindowDigest || s.TraceDigest != first.TraceDigest {
			t.Fatalf("partitions %d: digests %s/%s/%s, first run %s/%s/%s", parts, s.DocDigest, s.WindowDigest, s.TraceDigest,
				first.DocDigest, first.WindowDigest, first.TraceDigest)
		}
	}
}

// factsOnly is an XBRL instance holding part of Apple's FY2024 10-K facts
// as filed (the values of html/Apple.10-K.html), arriving before the HTML.
const factsOnly = `<?xml version="1.0" encoding="utf-8"?>
<xbrli:xbrl xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:dei="http://xbrl.sec.gov/dei/2024"
 xmlns:us-gaap="http://fasb.org/us-gaap/2024" xmlns:iso4217="http://www.xbrl.org/2003/iso4217">
 <xbrli:context id="FY"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0000320193</xbrli:identifier></xbrli:entity>
  <xbrli:period><xbrli:startDate>2023-10-01</xbrli:startDate><xbrli:endDate>2024-09-28</xbrli:endDate></xbrli:period></xbrli:context>
 <xbrli:context id="I"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0000320193</xbrli:identifier></xbrli:entity>
  <xbrli:period><xbrli:instant>2024-09-28</xbrli:instant></xbrli:period></xbrli:context>
 <xbrli:unit id="usd"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>
 <dei:DocumentType contextRef="FY">10-K</dei:DocumentType>
 <dei:DocumentPeriodEndDate contextRef="FY">2024-09-28</dei:DocumentPeriodEndDate>
 <dei:EntityCentralIndexKey contextRef="FY">0000320193</dei:EntityCentralIndexKey>
 <dei:EntityRegistrantName contextRef="FY">Apple Inc.</dei:EntityRegistrantName>
 <us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax contextRef="FY" unitRef="usd" decimals="-6">391035000000</us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax>
 <us-gaap:NetIncomeLoss contextRef="FY" unitRef="usd" decimals="-6">93736000000</us-gaap:NetIncomeLoss>
 <us-gaap:Assets contextRef="I" unitRef="usd" decimals="-6">364980000000</us-gaap:Assets>
</xbrli:xbrl>
`

// partialFillDir lays out a filing whose facts arrive before its sections.
func partialFillDir(t *testing.T) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "1-aapl-fy2024-facts.xml"), []byte(factsOnly), 0o644)
	b, err := os.ReadFile(filepath.Join(edgarData, "html/Apple.10-K.html"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "2-Apple.10-K.html"), b, 0o644)
	return dir
}

// Partial→Fill through the engine (seed §11): the facts open the window,
// the HTML fills it; the journal holds both window records (same id, open
// then filled), a doc_window and a doc_fill lineage edge, the raw bytes of
// both documents and one trace, made from the filled window.
func TestEdgarPartialFillJournaled(t *testing.T) {
	jdir := filepath.Join(t.TempDir(), "j")
	s := ingestDir(t, partialFillDir(t), Options{JournalDir: jdir, Partitions: 2})
	if s.Filings != 1 || s.Windows != 2 || s.Fills != 1 || s.Traces != 1 || s.OpenAtEnd != 0 {
		t.Fatalf("summary %+v", s)
	}
	r, err := journal.NewReader(jdir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wins []window.DecodedWindow
	kinds := map[uint8]int{}
	var raw int
	for {
		k, _, p, err := r.Next()
		if err != nil {
			break
		}
		kinds[k]++
		switch k {
		case runjournal.RecWindow:
			d, err := window.DecodeWindowRecord(p)
			if err != nil {
				t.Fatal(err)
			}
			d.Ext = append([]byte(nil), d.Ext...)
			wins = append(wins, d)
		case runjournal.RecEdgarRaw:
			e, err := decodeRaw(p)
			if err != nil {
				t.Fatal(err)
			}
			raw += len(e.data)
		case runjournal.RecEdgarDoc:
			if _, err := edgarrec.DecodeDoc(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(wins) != 2 || wins[0].Window.ID != wins[1].Window.ID || wins[0].Window.Status != window.StatusOpen ||
		wins[1].Window.Status != window.StatusFilled || wins[0].Hash == wins[1].Hash {
		t.Fatalf("window records: %+v", wins)
	}
	if kinds[runjournal.RecEdgarDoc] != 2 || kinds[runjournal.RecTrace] != 1 || kinds[runjournal.RecMeta] != 1 || kinds[runjournal.RecEnd] != 1 {
		t.Fatalf("record kinds %v", kinds)
	}
	html, _ := os.Stat(filepath.Join(edgarData, "html/Apple.10-K.html"))
	if raw != len(factsOnly)+int(html.Size()) {
		t.Fatalf("raw bytes journaled %d, want %d", raw, len(factsOnly)+int(html.Size()))
	}
	p, err := edgarrec.DecodeProv(wins[1].Ext)
	if err != nil || len(p.Docs) != 2 || len(p.Sections) != 2 || p.Sentiment.Words == 0 {
		t.Fatalf("filled provenance %+v %v", p, err)
	}
}

// Filing directories replay (with Verify: twice, the digests equal), and
// an EDGAR journal re-derives from the raw documents it holds, checked
// against the digests the run recorded.
func TestEdgarReplay(t *testing.T) {
	ctx := context.Background()
	es, err := ReplayDirs(ctx, []string{edgarData}, ReplayOptions{Verify: true, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	if es.Verify == nil || !es.Verify.Equal || es.Docs != 12 {
		t.Fatalf("filing replay: %+v", es)
	}
	jdir := filepath.Join(t.TempDir(), "j")
	run := ingestDir(t, partialFillDir(t), Options{JournalDir: jdir, Partitions: 2})
	if !IsJournal(jdir) || IsJournal(edgarData) {
		t.Fatal("IsJournal must tell an EDGAR journal from a filing directory")
	}
	e, err := ReplayJournal(ctx, jdir, ReplayOptions{Verify: true, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !e.Verify.Equal || e.WindowDigest != run.WindowDigest || e.TraceDigest != run.TraceDigest || e.Fills != 1 {
		t.Fatalf("journal replay: %+v, run %+v", e, run)
	}
	// A run that did not finish has no end record to verify against.
	r, err := journal.NewReader(jdir, 0)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut")
	w, err := journal.Open(journal.Options{Dir: cut})
	if err != nil {
		t.Fatal(err)
	}
	for {
		k, _, p, err := r.Next()
		if err != nil || k == runjournal.RecEnd {
			break
		}
		if _, err := w.Append(k, p); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ReplayJournal(ctx, cut, ReplayOptions{Verify: true}); !errors.Is(err, runjournal.ErrVerify) {
		t.Fatalf("a journal without its end record verified: %v", err)
	}
}

// blockingScorer never answers until released: a model that hangs.
type blockingScorer struct{ release chan struct{} }

func (b blockingScorer) Score(ctx context.Context, s string) (text.Sentiment, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return text.Sentiment{}, ctx.Err()
}

// A slow sentiment model (seed §6 step 4) never holds the pipeline: each
// call falls back to the word list after its timeout, the run completes
// with the word-list features, and the provenance records the fallback.
func TestEdgarSlowScorerFallsBack(t *testing.T) {
	b := blockingScorer{release: make(chan struct{})}
	defer close(b.release)
	base := ingestDir(t, partialFillDir(t), Options{})
	jdir := filepath.Join(t.TempDir(), "j")
	s := ingestDir(t, partialFillDir(t), Options{Scorer: b, ScorerTimeout: 20 * time.Millisecond, JournalDir: jdir})
	if s.ScorerFallbacks == 0 || s.Traces != 1 || s.Fills != 1 {
		t.Fatalf("summary %+v", s)
	}
	if s.WindowDigest == base.WindowDigest {
		t.Fatal("a fallback must show in the window (its provenance), so a replay that took the other branch is detectable")
	}
	r, err := journal.NewReader(jdir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var filled *edgarrec.Prov
	for {
		k, _, p, err := r.Next()
		if err != nil {
			break
		}
		if k == runjournal.RecWindow {
			d, _ := window.DecodeWindowRecord(p)
			if d.Window.Status == window.StatusFilled {
				pr, err := edgarrec.DecodeProv(d.Ext)
				if err != nil {
					t.Fatal(err)
				}
				filled = &pr
			}
		}
	}
	if filled == nil || !filled.Sentiment.FellBack || filled.Sentiment.Words == 0 {
		t.Fatalf("filled window sentiment %+v", filled)
	}
}
