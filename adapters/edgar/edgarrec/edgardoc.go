package edgarrec

import (
	"crypto/sha256"
	"errors"

	"thunderline/hotpath/codec"
)

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt filing record")

// The magic and version byte each record starts with.
const (
	docMagic    = "TLED"
	docVersion  = 1
	provMagic   = "TLEP"
	provVersion = 1
)

// Doc is one parsed EDGAR document: the EDGARDoc of seed 004 §3 and the
// row of raw_edgar_docs. Times are nanoseconds since the Unix epoch, UTC;
// 0 means unknown.
type Doc struct {
	Name       string   // where it came from: a path relative to the source root, or a URL path
	Source     string   // what the file was: sgml, xbrl, ixbrl, companyfacts
	Raw        [32]byte // sha256 of the bytes as received
	Size       uint64   // bytes as received
	CIK        uint64
	Form       string // submission type: 10-K, 10-Q, 8-K, ...
	Accession  string // 0000320193-23-000106 when known
	Company    string
	FilingTime int64 // acceptance time, else the filing date at 00:00 UTC
	PeriodEnd  int64 // period of report / DocumentPeriodEndDate, 00:00 UTC
	Sections   []Section
	Facts      []Fact
	Issues     []string // what the parser could not read exactly (facts left out, sections missing)
}

// Section is one item of a 10-K or 10-Q.
type Section struct {
	Part, Item, Title string
	Text              string
}

// Fact is one XBRL fact, its value an exact decimal as text.
type Fact struct {
	Concept  string // prefix:local, e.g. us-gaap:Revenues
	Value    string // exact decimal (numeric facts) or the text
	Unit     string // e.g. iso4217:USD, shares, iso4217:USD/shares; "" for text facts
	Decimals string // as written: "-6", "INF", "" when absent
	Start    string // duration start YYYY-MM-DD, "" for instants
	End      string // duration end or the instant, YYYY-MM-DD
	Dims     []Dim
}

// Dim is one dimension of a fact's context.
type Dim struct{ Axis, Member string }

// AppendDoc appends the canonical encoding of d:
//
//	"TLED" | version u8 = 1 | name, source: str | raw [32] | size u64 | cik u64
//	| form, accession, company: str | filing_time i64 | period_end i64
//	| n u32 × section (part, item, title, text: str)
//	| n u32 × fact (concept, value, unit, decimals, start, end: str; n u32 × (axis, member: str))
//	| n u32 × issue: str
//
// where str is len u32, bytes.
func AppendDoc(dst []byte, d *Doc) []byte {
	a := codec.Appender{B: dst}
	a.Magic(docMagic, docVersion)
	a.Str32(d.Name, d.Source)
	a.Raw(d.Raw[:])
	a.U64(d.Size)
	a.U64(d.CIK)
	a.Str32(d.Form, d.Accession, d.Company)
	a.I64(d.FilingTime)
	a.I64(d.PeriodEnd)
	codec.AppendList(&a, d.Sections, func(a *codec.Appender, s *Section) { a.Str32(s.Part, s.Item, s.Title, s.Text) })
	codec.AppendList(&a, d.Facts, func(a *codec.Appender, f *Fact) {
		a.Str32(f.Concept, f.Value, f.Unit, f.Decimals, f.Start, f.End)
		codec.AppendList(a, f.Dims, func(a *codec.Appender, dm *Dim) { a.Str32(dm.Axis, dm.Member) })
	})
	a.StrList32(d.Issues)
	return a.B
}

// Hash is the sha256 of d's canonical encoding: the EDGARDoc hash.
func (d *Doc) Hash() [32]byte { return sha256.Sum256(AppendDoc(nil, d)) }

// DocID is the id of a document whose canonical encoding hashes to h: a
// UUID (version 8, RFC 9562) from the hash, so a document has the same id
// in every run and lineage edges can name it.
func DocID(h [32]byte) [16]byte {
	return codec.UUID8(h)
}

// DecodeDoc parses AppendDoc's encoding. It never panics on bad bytes.
func DecodeDoc(b []byte) (Doc, error) {
	var d Doc
	r := codec.NewReader(b, ErrCorrupt)
	r.Magic(docMagic, docVersion)
	r.Str32s("name, source", &d.Name, &d.Source)
	r.Read(d.Raw[:], "raw")
	d.Size = r.U64("size")
	d.CIK = r.U64("cik")
	r.Str32s("form, accession, company", &d.Form, &d.Accession, &d.Company)
	d.FilingTime = r.I64("filing_time")
	d.PeriodEnd = r.I64("period_end")
	d.Sections = codec.ReadList(&r, 4*4, "sections", func(r *codec.Reader, s *Section) {
		r.Str32s("section", &s.Part, &s.Item, &s.Title, &s.Text)
	})
	d.Facts = codec.ReadList(&r, 7*4, "facts", func(r *codec.Reader, f *Fact) {
		r.Str32s("fact", &f.Concept, &f.Value, &f.Unit, &f.Decimals, &f.Start, &f.End)
		f.Dims = codec.ReadList(r, 2*4, "dims", func(r *codec.Reader, dm *Dim) { r.Str32s("dim", &dm.Axis, &dm.Member) })
	})
	d.Issues = r.StrList32("issues")
	return d, r.End()
}
