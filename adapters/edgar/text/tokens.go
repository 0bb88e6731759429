package text

import "sync"

// Token length bounds: a run of letters shorter than MinTokenLen or longer
// than MaxTokenLen is skipped (not emitted, not counted).
const (
	MinTokenLen = 2
	MaxTokenLen = 32
)

// Tokens calls fn for each token of text in order. A token is a maximal run
// of ASCII letters, lower-cased, of MinTokenLen..MaxTokenLen letters; every
// other byte (digits, punctuation, white space, any byte of a non-ASCII
// character) separates tokens. Letters that follow an apostrophe (' or
// U+2019) which itself follows a letter are dropped, so "company's" and
// "Company’s" give "company" and "rock'n'roll" gives "rock".
//
// fn receives a lower-cased copy that is valid only during the call; it
// must not keep it. Tokens does not allocate: the copy buffer is a pooled
// Tokenizer (a buffer handed to an unknown fn would otherwise escape to the
// heap once per call). Tokenizer is the same without the pool.
func Tokens(text string, fn func(tok []byte)) {
	sc := getScratch()
	defer putScratch(sc)
	z := &sc.tok
	z.Reset(text)
	for tok := z.Next(); tok != nil; tok = z.Next() {
		fn(tok)
	}
}

// Tokenizer yields the tokens of a text (as defined by Tokens) one at a
// time, without allocating. The zero value holds an empty text.
type Tokenizer struct {
	text string
	pos  int
	buf  [MaxTokenLen]byte
}

// Reset starts the tokenizer on text.
func (z *Tokenizer) Reset(text string) { z.text, z.pos = text, 0 }

// Next returns the next token, or nil at the end of the text. The slice is
// the tokenizer's own buffer, valid until the next call of Next or Reset.
func (z *Tokenizer) Next() []byte {
	s, i := z.text, z.pos
	for i < len(s) {
		if !isLetter(s[i]) {
			i++
			continue
		}
		start := i
		for i < len(s) && isLetter(s[i]) {
			i++
		}
		n := i - start
		i = skipSuffixes(s, i)
		if n >= MinTokenLen && n <= MaxTokenLen {
			for k := range n {
				z.buf[k] = s[start+k] | 0x20 // ASCII letter to lower case
			}
			z.pos = i
			return z.buf[:n]
		}
	}
	z.pos = i
	return nil
}

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool { c |= 0x20; return c >= 'a' && c <= 'z' }

// skipSuffixes skips the apostrophe-joined letter runs after the letter run
// ending at i ("'s" in "company's", "'n" and "'roll" in "rock'n'roll").
func skipSuffixes(s string, i int) int {
	for {
		a := apostropheLen(s, i)
		if a == 0 || i+a >= len(s) || !isLetter(s[i+a]) {
			return i
		}
		i += a
		for i < len(s) && isLetter(s[i]) {
			i++
		}
	}
}

// apostropheLen is 1 for ASCII ', 3 for U+2019 in UTF-8 (E2 80 99), else 0.
func apostropheLen(s string, i int) int {
	switch {
	case i < len(s) && s[i] == '\'':
		return 1
	case i+2 < len(s) && s[i] == 0xE2 && s[i+1] == 0x80 && s[i+2] == 0x99:
		return 3
	}
	return 0
}

// scratch is the reusable state of Tokens and Embed. Its contents never
// reach a result: it is fully reset by every use, so pooling it cannot make
// results depend on which goroutine or call used it before.
type scratch struct {
	tok   Tokenizer
	feats []uint64 // feature hashes of one Embed call
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// maxPooledFeats bounds the feature buffer kept in the pool (8 MiB), so one
// huge document does not pin its buffer.
const maxPooledFeats = 1 << 20

func putScratch(sc *scratch) {
	sc.tok.Reset("")
	if cap(sc.feats) > maxPooledFeats {
		sc.feats = nil
	}
	scratchPool.Put(sc)
}
