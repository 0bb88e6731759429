package text

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

// Sentiment is the word-list count of a text: Words tokens (as defined by
// Tokens), of which Positive, Negative, ... are in the list's categories.
// A word may be in more than one category ("litigation" is negative and
// litigious) and then counts in each.
type Sentiment struct {
	Words        int
	Positive     int
	Negative     int
	Uncertainty  int
	Litigious    int
	Constraining int
}

// Net is the net tone (Positive − Negative) / (Positive + Negative + 1), in
// (−1, 1); the +1 keeps it defined and shrinks it towards 0 when there are
// few hits.
func (s Sentiment) Net() float64 {
	return float64(s.Positive-s.Negative) / float64(s.Positive+s.Negative+1)
}

// Score counts the tokens of text and their word-list hits. It does not
// allocate.
func Score(text string) Sentiment {
	var s Sentiment
	var z Tokenizer
	z.Reset(text)
	for tok := z.Next(); tok != nil; tok = z.Next() {
		s.Words++
		c := lookup(tok)
		if c == 0 {
			continue
		}
		s.Positive += int(c & catPositive)
		s.Negative += int(c&catNegative) >> 1
		s.Uncertainty += int(c&catUncertainty) >> 2
		s.Litigious += int(c&catLitigious) >> 3
		s.Constraining += int(c&catConstraining) >> 4
	}
	return s
}

// Category bits of a word.
const (
	catPositive = 1 << iota
	catNegative
	catUncertainty
	catLitigious
	catConstraining
)

var categoryNames = [...]string{"positive", "negative", "uncertainty", "litigious", "constraining"}

// words.txt is the word list (see WORDLIST.md): one "category word" a line.
//
//go:embed words.txt
var wordsTxt string

type entry struct {
	word string
	cats uint8
}

// lexicon is the parsed word list sorted by word, built once at init and
// never written afterwards.
var lexicon = mustParseWords(wordsTxt)

func mustParseWords(s string) []entry {
	l, err := parseWords(s)
	if err != nil {
		panic("text: embedded words.txt: " + err.Error()) // a bug in the embedded file, caught by tests
	}
	return l
}

// parseWords reads a word list: lines "category word"; blank lines and lines
// starting with # are ignored. Words must be MinTokenLen..MaxTokenLen
// lower-case ASCII letters (anything else could never match a token); a word
// may not repeat within a category.
func parseWords(s string) ([]entry, error) {
	var l []entry
	for n, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want \"category word\", got %q", n+1, line)
		}
		cat := slices.Index(categoryNames[:], f[0])
		if cat < 0 {
			return nil, fmt.Errorf("line %d: unknown category %q", n+1, f[0])
		}
		w := f[1]
		if len(w) < MinTokenLen || len(w) > MaxTokenLen || strings.IndexFunc(w, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
			return nil, fmt.Errorf("line %d: word %q is not %d..%d lower-case ASCII letters", n+1, w, MinTokenLen, MaxTokenLen)
		}
		l = append(l, entry{word: w, cats: 1 << cat})
	}
	slices.SortStableFunc(l, func(a, b entry) int { return strings.Compare(a.word, b.word) })
	out := l[:0]
	for _, e := range l {
		if k := len(out) - 1; k >= 0 && out[k].word == e.word {
			if out[k].cats&e.cats != 0 {
				return nil, fmt.Errorf("word %q repeated in category %s", e.word, catName(e.cats))
			}
			out[k].cats |= e.cats
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func catName(c uint8) string {
	for i, n := range categoryNames {
		if c&(1<<i) != 0 {
			return n
		}
	}
	return "?"
}

// wordTable is an open-addressing hash table over lexicon (FNV-1a of the
// word, linear probing, at most half full), built once at init and never
// written afterwards. Slot values are lexicon index + 1; 0 is empty.
var wordTable = buildWordTable(lexicon)

func buildWordTable(l []entry) []uint16 {
	if len(l) >= 1<<16 {
		panic("text: word list too long for the uint16 table") // a bug in the embedded file
	}
	size := 64
	for size < 2*len(l) {
		size *= 2
	}
	t := make([]uint16, size)
	for i, e := range l {
		j := fnvAdd(fnvOffset, []byte(e.word)) & uint64(size-1)
		for t[j] != 0 {
			j = (j + 1) & uint64(size-1)
		}
		t[j] = uint16(i + 1)
	}
	return t
}

// lookup returns the category bits of tok (0 if not listed). The
// string(tok) comparison does not allocate.
func lookup(tok []byte) uint8 {
	mask := uint64(len(wordTable) - 1)
	for j := fnvAdd(fnvOffset, tok) & mask; ; j = (j + 1) & mask {
		k := wordTable[j]
		if k == 0 {
			return 0
		}
		if e := &lexicon[k-1]; e.word == string(tok) {
			return e.cats
		}
	}
}
