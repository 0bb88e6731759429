package text

import (
	"math"
	"slices"
)

// EmbedDim is the embedding dimension. It is part of the feature schema:
// changing it changes every embedding and so every hash that covers one.
const EmbedDim = 64

// FNV-1a 64 (the same function as hash/fnv.New64a, written out so that it
// streams over a token and continues from a previous state without
// allocating).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvAdd(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// Embed writes the signed feature-hashing embedding of text into dst and
// returns the number of tokens (as defined by Tokens) in text.
//
// Features are every token (unigram) and every pair of consecutive tokens
// (bigram, the previous token, one space, the token). A feature's hash h is
// FNV-1a 64 of its bytes; its bucket is h mod EmbedDim and its sign is − when
// bit 63 of h is set, + otherwise. Features are identified by h (two
// features with the same 64-bit hash are one feature). A feature occurring
// tf times has weight 1 + ln(tf); the float64 vector v sums ±weight per
// bucket, visiting features in ascending order of h. dst is v divided by its
// L2 norm, rounded to float32. When text has no tokens, or when v is zero,
// dst is all zeros. doc.go has the exact arithmetic.
//
// Embed does not allocate (its scratch buffer is pooled).
func Embed(text string, dst *[EmbedDim]float32) int {
	sc := getScratch()
	defer putScratch(sc)
	return embed(sc, text, dst)
}

func embed(sc *scratch, text string, dst *[EmbedDim]float32) int {
	feats := sc.feats[:0]
	z := &sc.tok
	z.Reset(text)
	n := 0
	var prev uint64 // FNV state after the previous token = its unigram hash
	for tok := z.Next(); tok != nil; tok = z.Next() {
		h := fnvAdd(fnvOffset, tok)
		feats = append(feats, h)
		if n > 0 {
			bigram := (prev ^ ' ') * fnvPrime // prev's bytes, then a space
			feats = append(feats, fnvAdd(bigram, tok))
		}
		prev = h
		n++
	}
	sc.feats = feats
	slices.Sort(feats)

	var v [EmbedDim]float64
	for i := 0; i < len(feats); {
		h := feats[i]
		j := i + 1
		for j < len(feats) && feats[j] == h {
			j++
		}
		w := 1 + lnCount(j-i)
		if h>>63 != 0 {
			w = -w
		}
		v[h%EmbedDim] += w
		i = j
	}
	normalize(&v, dst)
	return n
}

// normalize stores v/‖v‖ in dst (zeros when v is zero). The sum of squares
// is taken in index order with each product rounded (no FMA).
func normalize(v *[EmbedDim]float64, dst *[EmbedDim]float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x * x)
	}
	if ss == 0 {
		*dst = [EmbedDim]float32{}
		return
	}
	norm := math.Sqrt(ss) // correctly rounded on every platform (IEEE 754)
	for i, x := range v {
		dst[i] = float32(x / norm)
	}
}

// Cosine returns the cosine similarity of a and b: Σ a·b / sqrt(Σa² · Σb²),
// with float64 sums in index order, clamped to [−1, 1]. It is 0 when either
// vector is zero, and exactly 1 for Cosine(a, a) with a non-zero.
func Cosine(a, b *[EmbedDim]float32) float64 {
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += float64(x * y)
		na += float64(x * x)
		nb += float64(y * y)
	}
	if na == 0 || nb == 0 {
		return 0
	}
	c := dot / math.Sqrt(float64(na*nb))
	return max(-1, min(1, c))
}

// lnCount is ln(c) for a count c ≥ 1, computed with a fixed sequence of
// IEEE-754 operations (math.Log is assembly on some platforms and may be
// fused on others, so its last bit is not guaranteed to agree across
// machines). Accurate to about 1 ulp.
func lnCount(c int) float64 {
	if c <= 1 {
		return 0
	}
	// c = f·2^e with f in [√½, √2); ln c = e·ln2 + ln f, and
	// ln f = 2·atanh(s) = 2s·(1 + z/3 + z²/5 + …) with s = (f−1)/(f+1), z = s².
	f, e := math.Frexp(float64(c)) // exact; f in [½, 1)
	if f < math.Sqrt2/2 {
		f *= 2
		e--
	}
	s := (f - 1) / (f + 1) // f−1 is exact here (Sterbenz)
	z := float64(s * s)
	p := atanhCoef[len(atanhCoef)-1]
	for k := len(atanhCoef) - 2; k >= 0; k-- {
		p = float64(p*z) + atanhCoef[k]
	}
	fe := float64(e)
	return float64(fe*ln2Hi) + (float64(fe*ln2Lo) + float64(2*s*p))
}

// ln2Hi + ln2Lo = ln 2; ln2Hi has trailing zero bits so fe*ln2Hi is exact.
const (
	ln2Hi = 6.93147180369123816490e-01 // 0x3fe62e42fee00000
	ln2Lo = 1.90821492927058770002e-10 // 0x3dea39ef35793c76
)

// atanhCoef[k] = 1/(2k+1), each rounded once from the exact constant.
// |z| ≤ (3−2√2)² ≈ 0.0295, so z¹³/27 < 1e-21 is below float64 precision.
var atanhCoef = [...]float64{
	1, 1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13,
	1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23, 1.0 / 25, 1.0 / 27,
}
