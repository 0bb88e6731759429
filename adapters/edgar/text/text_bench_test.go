package text

import "testing"

// benchText is Apple's 10-K Item 1A (about 69 kB of plain text).
func benchText(b *testing.B) string {
	rf, _ := appleSections(b, "Apple.10-K.html")
	b.SetBytes(int64(len(rf.Text)))
	b.ReportAllocs()
	return rf.Text
}

func BenchmarkTokens(b *testing.B) {
	s := benchText(b)
	n := 0
	for b.Loop() {
		Tokens(s, func(tok []byte) { n += len(tok) })
	}
}

func BenchmarkTokenizer(b *testing.B) {
	s := benchText(b)
	var z Tokenizer
	n := 0
	for b.Loop() {
		z.Reset(s)
		for tok := z.Next(); tok != nil; tok = z.Next() {
			n += len(tok)
		}
	}
}

func BenchmarkEmbed(b *testing.B) {
	s := benchText(b)
	var dst [EmbedDim]float32
	for b.Loop() {
		Embed(s, &dst)
	}
}

func BenchmarkScore(b *testing.B) {
	s := benchText(b)
	for b.Loop() {
		Score(s)
	}
}
