package text

import (
	"math"
	"slices"
	"testing"
)

// refTokens is the tokenizer rule stated the other way round: split into
// letter runs, then drop every run that follows an apostrophe (' or U+2019)
// directly preceded by a letter, and every run outside 2..32 letters.
func refTokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if !isLetter(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		suffix := (i >= 2 && s[i-1] == '\'' && isLetter(s[i-2])) ||
			(i >= 4 && s[i-3:i] == "\u2019" && isLetter(s[i-4]))
		if !suffix && j-i >= 2 && j-i <= 32 {
			b := []byte(s[i:j])
			for k, c := range b {
				if c >= 'A' && c <= 'Z' {
					b[k] = c + 'a' - 'A'
				}
			}
			out = append(out, string(b))
		}
		i = j
	}
	return out
}

func FuzzTokens(f *testing.F) {
	for _, s := range []string{
		"", sample, "rock'n'roll o'neill 'tis", "Company’s ’’s x\u2019\u2019sss",
		"café naïve AT&T 10-K", "ab\xe2\x80", "\xe2\x80\x99\xe2\x80\x99ab", "A" + string(make([]byte, 40)),
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got []string
		Tokens(s, func(tok []byte) {
			if len(tok) < MinTokenLen || len(tok) > MaxTokenLen {
				t.Fatalf("token %q has length %d", tok, len(tok))
			}
			for _, c := range tok {
				if c < 'a' || c > 'z' {
					t.Fatalf("token %q is not lower-case ASCII", tok)
				}
			}
			got = append(got, string(tok))
		})
		if want := refTokens(s); !slices.Equal(got, want) {
			t.Fatalf("Tokens(%q) = %q, reference %q", s, got, want)
		}

		var e, again [EmbedDim]float32
		n := Embed(s, &e)
		if n != len(got) {
			t.Fatalf("Embed saw %d tokens, Tokens %d", n, len(got))
		}
		if Embed(s, &again); e != again {
			t.Fatal("Embed not deterministic")
		}
		for i, x := range e {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("embedding[%d] = %v", i, x)
			}
		}
		if nrm := norm(&e); nrm != 0 && math.Abs(nrm-1) > 1e-5 {
			t.Fatalf("norm %v", nrm)
		}
		if sc := Score(s); sc.Words != n || sc.Positive > n || sc.Negative > n || sc.Uncertainty > n {
			t.Fatalf("Score %+v with %d tokens", sc, n)
		}
	})
}
