package text

import (
	"math"
	"strings"
	"testing"
)

func TestWordListLoads(t *testing.T) {
	if len(lexicon) < 300 {
		t.Fatalf("lexicon has %d words, want a few hundred", len(lexicon))
	}
	// Per category counts from the raw file, and the rules of WORDLIST.md.
	seen := map[string]bool{}
	perCat := map[string]int{}
	for n, line := range strings.Split(wordsTxt, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		cat, w, ok := strings.Cut(line, " ")
		if !ok || strings.Contains(w, " ") {
			t.Fatalf("line %d: %q", n+1, line)
		}
		if seen[cat+" "+w] {
			t.Errorf("line %d: %q repeated in %s", n+1, w, cat)
		}
		seen[cat+" "+w] = true
		perCat[cat]++
		for i := 0; i < len(w); i++ {
			if w[i] < 'a' || w[i] > 'z' {
				t.Errorf("line %d: %q is not lower-case ASCII", n+1, w)
				break
			}
		}
		if lookup([]byte(w)) == 0 {
			t.Errorf("line %d: %q not found by lookup", n+1, w)
		}
	}
	for _, c := range categoryNames {
		if perCat[c] < 40 {
			t.Errorf("category %s has %d words", c, perCat[c])
		}
	}
	for i := 1; i < len(lexicon); i++ {
		if lexicon[i-1].word >= lexicon[i].word {
			t.Fatalf("lexicon not strictly sorted at %q", lexicon[i].word)
		}
	}
	for _, w := range []string{"", "a", "zzzz", "lossy", "los"} {
		if lookup([]byte(w)) != 0 {
			t.Errorf("lookup(%q) hit", w)
		}
	}
	if c := lookup([]byte("litigation")); c != catNegative|catLitigious {
		t.Errorf("litigation categories %b", c)
	}
}

func TestParseWordsRejects(t *testing.T) {
	for _, in := range []string{
		"negative loss\nnegative loss",
		"negative Loss",
		"negative los-s",
		"negative l",
		"happy gain",
		"negative",
		"negative loss extra",
		"negative " + strings.Repeat("x", 33),
	} {
		if _, err := parseWords(in); err == nil {
			t.Errorf("parseWords(%q) accepted", in)
		}
	}
	l, err := parseWords("# c\n\nnegative loss\nlitigious loss\npositive gain\n")
	if err != nil || len(l) != 2 || l[0].word != "gain" || l[1].cats != catNegative|catLitigious {
		t.Fatalf("parseWords: %v %v", l, err)
	}
}

func TestScoreSentence(t *testing.T) {
	in := "The Company's losses may increase, and litigation could adversely affect our strong growth; " +
		"we must comply with restrictions. Violations of covenants."
	// losses litigation adversely violations: negative; strong growth: positive;
	// may could: uncertainty; litigation violations: litigious;
	// must comply restrictions covenants: constraining.
	want := Sentiment{Words: 21, Positive: 2, Negative: 4, Uncertainty: 2, Litigious: 2, Constraining: 4}
	if got := Score(in); got != want {
		t.Fatalf("Score = %+v, want %+v", got, want)
	}
	if got := Score(""); got != (Sentiment{}) {
		t.Errorf("Score(\"\") = %+v", got)
	}
}

func TestNet(t *testing.T) {
	f := func(s Sentiment, want float64) {
		t.Helper()
		if got := s.Net(); math.Abs(got-want) > 1e-15 {
			t.Errorf("%+v.Net() = %v, want %v", s, got, want)
		}
	}
	f(Sentiment{}, 0)
	f(Sentiment{Positive: 3, Negative: 1}, 2.0/5)
	f(Sentiment{Positive: 0, Negative: 9}, -0.9)
}

func TestScoreAllocs(t *testing.T) {
	in := strings.Repeat("The Company’s results may be adversely affected by litigation. ", 20)
	if a := testing.AllocsPerRun(50, func() { Score(in) }); a != 0 {
		t.Errorf("Score: %v allocs per run, want 0", a)
	}
}
