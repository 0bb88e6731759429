package text

import (
	"slices"
	"strings"
	"testing"
)

func collect(text string) []string {
	var out []string
	Tokens(text, func(tok []byte) { out = append(out, string(tok)) })
	return out
}

func TestTokens(t *testing.T) {
	long := strings.Repeat("a", MaxTokenLen)
	f := func(in string, want ...string) {
		t.Helper()
		if got := collect(in); !slices.Equal(got, want) {
			t.Errorf("Tokens(%q) = %q, want %q", in, got, want)
		}
	}
	f("")
	f("   1234 ,;: ")
	f("Risk Factors", "risk", "factors")
	f("The Company’s net sales", "the", "company", "net", "sales") // U+2019
	f("the company's and companies' results", "the", "company", "and", "companies", "results")
	f("don't rock'n'roll o'neill", "don", "rock") // "o" too short, "neill" is a suffix
	f("'tis ’twas", "tis", "twas")                // apostrophe not after a letter
	f("a b c de", "de")                           // one-letter runs skipped
	f("10-K Item1A FY2024Q3", "item", "fy")       // digits separate
	f("café naïve", "caf", "na", "ve")            // non-ASCII separates
	f("e-commerce U.S. AT&T", "commerce", "at")   // punctuation separates
	f(long+" "+long+"b ok", long, "ok")           // 33 letters skipped
	f("ABC’", "abc")                              // trailing apostrophe
	f("ab\xe2\x80", "ab")                         // truncated U+2019
	f("ab\xe2\x80\x99", "ab")                     // apostrophe at the end
	f("x\u2019\u2019sss", "sss")                  // double apostrophe: not joined
	f("MD&A\nLiquidity\tand", "md", "liquidity", "and")
}

func TestTokenizerMatchesTokens(t *testing.T) {
	in := "The Company’s business, reputation, results of operations can be affected"
	var z Tokenizer
	z.Reset(in)
	var got []string
	for tok := z.Next(); tok != nil; tok = z.Next() {
		got = append(got, string(tok))
	}
	if want := collect(in); !slices.Equal(got, want) || len(got) != 10 {
		t.Fatalf("Tokenizer %q, Tokens %q", got, want)
	}
	if z.Next() != nil {
		t.Fatal("Next after the end is not nil")
	}
}

func TestTokensAllocs(t *testing.T) {
	in := strings.Repeat("The Company’s results may be adversely affected by 12 factors. ", 20)
	n := 0
	var z Tokenizer
	if a := testing.AllocsPerRun(50, func() {
		z.Reset(in)
		for tok := z.Next(); tok != nil; tok = z.Next() {
			n += len(tok)
		}
	}); a != 0 {
		t.Errorf("Tokenizer: %v allocs per run, want 0", a)
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	if a := testing.AllocsPerRun(50, func() { Tokens(in, func(tok []byte) { n += len(tok) }) }); a != 0 {
		t.Errorf("Tokens: %v allocs per run, want 0", a)
	}
}
