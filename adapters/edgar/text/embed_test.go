package text

import (
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"testing"
)

// refEmbed is the embedding as doc.go defines it, written independently:
// hash/fnv, a map of term frequencies, sorted keys, the given ln.
func refEmbed(text string, ln func(int) float64) (out [EmbedDim]float32, n int) {
	tf := map[uint64]int{}
	var prev string
	Tokens(text, func(tok []byte) {
		feats := []string{string(tok)}
		if n > 0 {
			feats = append(feats, prev+" "+string(tok))
		}
		for _, f := range feats {
			h := fnv.New64a()
			h.Write([]byte(f))
			tf[h.Sum64()]++
		}
		prev = string(tok)
		n++
	})
	keys := make([]uint64, 0, len(tf))
	for h := range tf {
		keys = append(keys, h)
	}
	slices.Sort(keys)
	var v [EmbedDim]float64
	for _, h := range keys {
		w := 1 + ln(tf[h])
		if h&(1<<63) != 0 {
			w = -w
		}
		v[h%EmbedDim] += w
	}
	var ss float64
	for _, x := range v {
		ss += float64(x * x)
	}
	if ss > 0 {
		for i, x := range v {
			out[i] = float32(x / math.Sqrt(ss))
		}
	}
	return out, n
}

const sample = "The Company’s net sales may decline. Net sales declined, and net sales may decline again; " +
	"the Company's gross margin could be adversely affected by 10-K risks."

func TestEmbedMatchesDefinition(t *testing.T) {
	for _, in := range []string{sample, "", "one", "alpha beta", strings.Repeat("loss gain ", 300), "aa aa aa aa"} {
		var got [EmbedDim]float32
		n := Embed(in, &got)
		want, wn := refEmbed(in, lnCount)
		if n != wn || got != want {
			t.Errorf("Embed(%.20q): n=%d %v\nwant n=%d %v", in, n, got[:4], wn, want[:4])
		}
		// With the platform's math.Log the result agrees to float32 rounding.
		approx, _ := refEmbed(in, func(c int) float64 { return math.Log(float64(c)) })
		for i := range got {
			if d := math.Abs(float64(got[i] - approx[i])); d > 1e-7 {
				t.Errorf("Embed(%.20q)[%d] = %v, with math.Log %v", in, i, got[i], approx[i])
			}
		}
	}
}

func TestEmbedBasics(t *testing.T) {
	var e [EmbedDim]float32
	e[3] = 7
	if n := Embed("  12 -- é ", &e); n != 0 || e != ([EmbedDim]float32{}) {
		t.Fatalf("no tokens: n=%d, dst not zeroed: %v", n, e)
	}
	var a, b [EmbedDim]float32
	if n := Embed(sample, &a); n != 25 {
		t.Errorf("tokens = %d, want 25", n)
	}
	Embed(sample, &b)
	if a != b {
		t.Fatal("Embed is not deterministic")
	}
	if nrm := norm(&a); math.Abs(nrm-1) > 1e-6 {
		t.Errorf("norm %v", nrm)
	}
	if c := Cosine(&a, &a); c != 1 {
		t.Errorf("Cosine(a, a) = %v, want exactly 1", c)
	}
	// Case and apostrophe suffixes do not change the features.
	Embed(strings.ToUpper(strings.ReplaceAll(sample, "Company’s", "company")), &b)
	if a != b {
		t.Error("upper case / apostrophe suffix changed the embedding")
	}
	// Word order matters through bigrams only.
	Embed("sales declined", &a)
	Embed("declined sales", &b)
	if c := Cosine(&a, &b); c >= 1-1e-9 || c <= 0 {
		t.Errorf("Cosine(sales declined, declined sales) = %v, want in (0, 1)", c)
	}
}

func TestCosine(t *testing.T) {
	var a, b, z [EmbedDim]float32
	a[0], a[1] = 0.6, 0.8
	b[1] = 1
	if c := Cosine(&a, &b); math.Abs(c-0.8) > 1e-7 {
		t.Errorf("Cosine = %v, want 0.8", c)
	}
	if c := Cosine(&a, &z); c != 0 {
		t.Errorf("Cosine with zero = %v", c)
	}
	neg := a
	for i := range neg {
		neg[i] = -neg[i]
	}
	if c := Cosine(&a, &neg); c != -1 {
		t.Errorf("Cosine(a, -a) = %v, want -1", c)
	}
}

func TestLnCount(t *testing.T) {
	if lnCount(1) != 0 || lnCount(0) != 0 {
		t.Fatal("ln(1) != 0")
	}
	worst := 0.0
	for c := 2; c <= 1<<20; c++ {
		want := math.Log(float64(c))
		if d := math.Abs(lnCount(c)-want) / want; d > worst {
			worst = d
		}
	}
	if worst > 4e-16 { // about 2 ulp
		t.Errorf("lnCount relative error %g", worst)
	}
	// Pinned bits (the correctly rounded values, from 50-digit decimal ln):
	// the value must not change with the platform.
	for _, c := range []struct {
		n    int
		bits uint64
	}{{2, math.Float64bits(math.Ln2)}, {3, 0x3ff193ea7aad030b}, {1000, 0x401ba18a998fffa0}} {
		if got := math.Float64bits(lnCount(c.n)); got != c.bits {
			t.Errorf("lnCount(%d) bits %#x, want %#x", c.n, got, c.bits)
		}
	}
}

func TestEmbedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	in := strings.Repeat(sample, 50)
	var dst [EmbedDim]float32
	Embed(in, &dst) // grow the pooled buffer
	if a := testing.AllocsPerRun(20, func() { Embed(in, &dst) }); a != 0 {
		t.Errorf("Embed: %v allocs per run, want 0", a)
	}
}

func norm(a *[EmbedDim]float32) float64 {
	var s float64
	for _, x := range a {
		s += float64(float64(x) * float64(x))
	}
	return math.Sqrt(s)
}
