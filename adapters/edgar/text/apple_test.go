package text

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"thunderline/adapters/edgar"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// dataDir is the shared real-data directory (see /work/shared/data/README.md).
const dataDir = "../../../../shared/data/edgar/html"

// appleSections returns Item 1A and MD&A of an Apple filing in dataDir.
func appleSections(t testing.TB, file string) (riskFactors, mda edgar.Section) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(dataDir, file))
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	secs, err := edgar.Sections(doc)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	rf, err := edgar.RiskFactors(secs)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	md, err := edgar.MDA(secs)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return rf, md
}

func TestAppleEmbeddings(t *testing.T) {
	k1a, kmda := appleSections(t, "Apple.10-K.html")
	q1a, qmda := appleSections(t, "Apple.10-Q.html")
	// The 10-Q's Item 1A is short: it refers to the 10-K's risk factors.
	if len(q1a.Text) > 5000 || !strings.Contains(q1a.Text, "Item 1A of the 2023 Form 10-K") {
		t.Errorf("10-Q Item 1A: %d bytes, expected a short reference to the 10-K", len(q1a.Text))
	}

	embed := func(s string) (e [EmbedDim]float32) {
		var again [EmbedDim]float32
		n := Embed(s, &e)
		if m := Embed(s, &again); m != n || e != again {
			t.Fatal("Embed differs between two runs")
		}
		if d := math.Abs(norm(&e) - 1); d > 1e-6 {
			t.Errorf("norm differs from 1 by %g", d)
		}
		return e
	}
	k, km, q, qm := embed(k1a.Text), embed(kmda.Text), embed(q1a.Text), embed(qmda.Text)
	if c := Cosine(&k, &k); c != 1 {
		t.Errorf("cosine(10-K 1A, 10-K 1A) = %v", c)
	}
	kq, kkm, qqm, kmqm := Cosine(&k, &q), Cosine(&k, &km), Cosine(&q, &qm), Cosine(&km, &qm)
	t.Logf("cosine: 10-K 1A~10-Q 1A %.4f, 10-K 1A~10-K MD&A %.4f, 10-Q 1A~10-Q MD&A %.4f, 10-K MD&A~10-Q MD&A %.4f", kq, kkm, qqm, kmqm)
	if kkm >= 0.99 || qqm >= 0.99 {
		t.Errorf("Risk Factors and MD&A are near-identical: %v, %v", kkm, qqm)
	}
	// The two MD&As (same company, same template) are closer to each other
	// than the 10-K's Risk Factors are to its MD&A.
	if kmqm <= kkm {
		t.Errorf("cosine(10-K MD&A, 10-Q MD&A) %v <= cosine(10-K 1A, 10-K MD&A) %v", kmqm, kkm)
	}
}

func TestAppleSentiment(t *testing.T) {
	k1a, kmda := appleSections(t, "Apple.10-K.html")
	_, qmda := appleSections(t, "Apple.10-Q.html")
	rate := func(s Sentiment) float64 { return float64(s.Negative+s.Uncertainty) / float64(s.Words) }
	rf, md, qmd := Score(k1a.Text), Score(kmda.Text), Score(qmda.Text)
	t.Logf("10-K 1A %+v rate %.4f net %.3f", rf, rate(rf), rf.Net())
	t.Logf("10-K MD&A %+v rate %.4f net %.3f", md, rate(md), md.Net())
	t.Logf("10-Q MD&A %+v rate %.4f net %.3f", qmd, rate(qmd), qmd.Net())
	if rate(rf) <= rate(md) || rate(rf) <= rate(qmd) {
		t.Errorf("Risk Factors (negative+uncertainty)/words %.4f not above MD&A %.4f / %.4f", rate(rf), rate(md), rate(qmd))
	}
	if rf.Net() >= md.Net() {
		t.Errorf("Risk Factors net tone %.3f not below MD&A %.3f", rf.Net(), md.Net())
	}
}

// TestGoldenApple10K pins the feature schema (tokenizer, hash, weighting,
// word list) on real text: the token count, the first 8 embedding values
// (as float32 bits) and the sentiment of Apple's 10-K Item 1A. Regenerate
// only for an intended schema change: go test -run TestGoldenApple10K -update
func TestGoldenApple10K(t *testing.T) {
	rf, _ := appleSections(t, "Apple.10-K.html")
	var e [EmbedDim]float32
	n := Embed(rf.Text, &e)
	var b strings.Builder
	fmt.Fprintf(&b, "# Apple 10-K Item 1A: schema of thunderline/adapters/edgar/text (EmbedDim %d)\n", EmbedDim)
	fmt.Fprintf(&b, "tokens %d\n", n)
	for i := range 8 {
		fmt.Fprintf(&b, "embed[%d] %08x %.9g\n", i, math.Float32bits(e[i]), e[i])
	}
	s := Score(rf.Text)
	fmt.Fprintf(&b, "sentiment words=%d positive=%d negative=%d uncertainty=%d litigious=%d constraining=%d\n",
		s.Words, s.Positive, s.Negative, s.Uncertainty, s.Litigious, s.Constraining)
	got := b.String()

	path := filepath.Join("testdata", "apple_10k_item1a.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("feature schema changed (tokenizer, hash, weights or word list)\ngot:\n%s\nwant:\n%s", got, want)
	}
}
