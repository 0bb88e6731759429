package filing

import "crypto/sha256"

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

const (
	docMagic   = "TLED"
	docVersion = 1
)

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
	e := enc{b: dst}
	e.b = append(e.b, docMagic...)
	e.u8(docVersion)
	e.str(d.Name)
	e.str(d.Source)
	e.b = append(e.b, d.Raw[:]...)
	e.u64(d.Size)
	e.u64(d.CIK)
	e.str(d.Form)
	e.str(d.Accession)
	e.str(d.Company)
	e.i64(d.FilingTime)
	e.i64(d.PeriodEnd)
	e.u32(uint32(len(d.Sections)))
	for i := range d.Sections {
		s := &d.Sections[i]
		e.str(s.Part)
		e.str(s.Item)
		e.str(s.Title)
		e.str(s.Text)
	}
	e.u32(uint32(len(d.Facts)))
	for i := range d.Facts {
		f := &d.Facts[i]
		e.str(f.Concept)
		e.str(f.Value)
		e.str(f.Unit)
		e.str(f.Decimals)
		e.str(f.Start)
		e.str(f.End)
		e.u32(uint32(len(f.Dims)))
		for _, dm := range f.Dims {
			e.str(dm.Axis)
			e.str(dm.Member)
		}
	}
	e.strs(d.Issues)
	return e.b
}

// Hash is the sha256 of d's canonical encoding: the EDGARDoc hash.
func (d *Doc) Hash() [32]byte { return sha256.Sum256(AppendDoc(nil, d)) }

// DocID is the id of a document whose canonical encoding hashes to h: a
// UUID (version 8, RFC 9562) from the hash, so a document has the same id
// in every run and lineage edges can name it.
func DocID(h [32]byte) [16]byte {
	var id [16]byte
	copy(id[:], h[:16])
	id[6] = id[6]&0x0f | 0x80
	id[8] = id[8]&0x3f | 0x80
	return id
}

// DecodeDoc parses AppendDoc's encoding. It never panics on bad bytes.
func DecodeDoc(b []byte) (Doc, error) {
	var d Doc
	r := dec{b: b}
	r.magic(docMagic, docVersion)
	d.Name = r.str("name")
	d.Source = r.str("source")
	if r.need(32, "raw") {
		copy(d.Raw[:], b[r.off:])
		r.off += 32
	}
	d.Size = r.u64("size")
	d.CIK = r.u64("cik")
	d.Form = r.str("form")
	d.Accession = r.str("accession")
	d.Company = r.str("company")
	d.FilingTime = r.i64("filing_time")
	d.PeriodEnd = r.i64("period_end")
	if n := r.count(16, "sections"); n > 0 {
		d.Sections = make([]Section, n)
		for i := range d.Sections {
			s := &d.Sections[i]
			s.Part, s.Item, s.Title, s.Text = r.str("part"), r.str("item"), r.str("title"), r.str("text")
		}
	}
	if n := r.count(28, "facts"); n > 0 {
		d.Facts = make([]Fact, n)
		for i := range d.Facts {
			f := &d.Facts[i]
			f.Concept, f.Value, f.Unit, f.Decimals = r.str("concept"), r.str("value"), r.str("unit"), r.str("decimals")
			f.Start, f.End = r.str("start"), r.str("end")
			if m := r.count(8, "dims"); m > 0 {
				f.Dims = make([]Dim, m)
				for j := range f.Dims {
					f.Dims[j] = Dim{Axis: r.str("axis"), Member: r.str("member")}
				}
			}
		}
	}
	d.Issues = r.strs("issues")
	return d, r.end()
}
