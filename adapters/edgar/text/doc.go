// Package text computes deterministic text features of SEC filing sections
// (10-K and 10-Q Item 1A Risk Factors, Item 7 MD&A, ... as plain text from
// adapters/edgar.Sections): the embedding-and-sentiment step of the EDGAR
// pipeline (seed §6 step 4).
//
// It owns:
//
//   - Tokens / Tokenizer: the tokenizer every feature is built on.
//   - Embed and Cosine: a 64-dimensional signed feature-hashing embedding.
//   - Score and Sentiment: word-list counts (positive, negative,
//     uncertainty, litigious, constraining) from words.txt.
//   - Timed: runs an optional slow or remote Scorer with a per-call timeout
//     on a bounded pool and falls back to Score.
//
// # Determinism
//
// Results are hashed into FeatureWindow hashes, so Tokens, Embed, Cosine and
// Score are pure functions of their input, identical on every machine and
// run: no map iteration, no goroutines, no randomness, no wall clock; sums
// run in a fixed order; every product that a compiler could fuse with an
// addition into an FMA is written float64(a*b) (the Go spec requires the
// conversion to round); the logarithm is computed by this package with
// plain IEEE-754 operations rather than math.Log (assembly on some
// platforms); math.Sqrt is correctly rounded everywhere. Pooled scratch
// buffers are fully reset before use.
//
// Timed is the exception, by nature: whether a slow primary answers in time
// depends on the machine. Its Score reports fellBack and a reason whenever
// the word-list result was used, so a replay that took the other branch is
// detectable. The engine uses the word-list Score as the deterministic
// default and enables a primary only explicitly.
//
// # Tokens
//
// A token is a maximal run of ASCII letters [A-Za-z], lower-cased, of 2..32
// letters; runs of 1 or of more than 32 letters are skipped. Every other
// byte separates tokens (digits, punctuation, white space and every byte of
// a non-ASCII UTF-8 character, so "café" gives "caf"). Letter runs joined to
// a preceding letter run by an apostrophe (ASCII ' or U+2019 ’) are dropped:
// "Company’s" → "company", "don't" → "don", "rock'n'roll" → "rock".
//
// # Embedding (exact definition)
//
// For text with tokens t1..tn:
//
//  1. The features are the n unigrams ti and the n−1 bigrams "t(i−1) ti"
//     (bytes of the previous token, one 0x20 byte, bytes of the token),
//     across line and sentence boundaries.
//  2. h(f) = FNV-1a 64 of the feature's bytes: h = 14695981039346656037;
//     per byte c: h ^= c; h *= 1099511628211 (mod 2^64). Features with
//     equal h are the same feature; tf(h) is its number of occurrences.
//  3. For each distinct h in ascending order: w = 1 + ln(tf), negated when
//     bit 63 of h is 1; v[h mod 64] += w, in float64. ln is computed as:
//     tf = f·2^e (math.Frexp), and if f < √2/2 then f *= 2, e−−;
//     s = (f−1)/(f+1); z = s·s; p = 1/27; for k = 12 down to 0:
//     p = round(p·z) + 1/(2k+1); ln = round(e·ln2Hi) + (round(e·ln2Lo) +
//     round(2s·p)) with ln2Hi = 0x3fe62e42fee00000, ln2Lo =
//     0x3dea39ef35793c76 (float64 bits), every operation rounded to float64
//     and no fused multiply-add; ln(1) = 0.
//  4. S = Σ round(v[i]·v[i]) for i = 0..63 in order; if S = 0 the result is
//     all zeros, else dst[i] = float32(v[i] / sqrt(S)).
//
// The dimension 64, the hash, the bigram separator and the weighting are the
// feature schema: changing any of them changes every hash built on the
// embedding. testdata/apple_10k_item1a.golden pins them.
//
// Cosine(a, b) = Σ ab / sqrt(Σa²·Σb²) in float64, index order, clamped to
// [−1, 1]; 0 if a or b is zero.
//
// # Word list and licence
//
// words.txt was written for this project and is under the project's own
// licence; it is not the Loughran-McDonald dictionary or any other
// published list (see WORDLIST.md). Inflected forms are listed explicitly:
// there is no stemming.
//
// The package never does I/O, never starts goroutines outside Timed, and
// imports only the standard library.
package text
