package edgar

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"testing"

	"thunderline/adapters/edgar/source"
)

// The fuzz targets check that no input panics and that what comes out is
// bounded by what went in (no amplification). Seeds are small so that the
// mutator stays fast; the full samples are covered by the unit tests.

func seedPrefix(f *testing.F, rel string, n int) {
	b := readData(f, rel)
	f.Add(b[:min(n, len(b))])
}

const smallXBRL = `<xbrl xmlns="http://www.xbrl.org/2003/instance" xmlns:x="urn:x" xmlns:xbrldi="http://xbrl.org/2006/xbrldi">
<context id="c"><entity><identifier scheme="s">1</identifier><segment><xbrldi:explicitMember dimension="x:A">x:M</xbrldi:explicitMember></segment></entity><period><startDate>2020-01-01</startDate><endDate>2020-12-31</endDate></period></context>
<unit id="u"><divide><unitNumerator><measure>x:U</measure></unitNumerator><unitDenominator><measure>x:S</measure></unitDenominator></divide></unit>
<x:A contextRef="c" unitRef="u" decimals="-3">1000.5</x:A><x:T contextRef="c">text</x:T></xbrl>`

const smallIX = `<html xmlns="http://www.w3.org/1999/xhtml" xmlns:ix="http://www.xbrl.org/2013/inlineXBRL" xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:x="urn:x" xmlns:ixt="urn:t"><body>
<ix:header><ix:resources><xbrli:context id="c"><xbrli:entity><xbrli:identifier scheme="s">1</xbrli:identifier></xbrli:entity><xbrli:period><xbrli:instant>2020-01-01</xbrli:instant></xbrli:period></xbrli:context>
<xbrli:unit id="u"><xbrli:measure>x:U</xbrli:measure></xbrli:unit></ix:resources></ix:header>
<p><ix:nonFraction name="x:A" contextRef="c" unitRef="u" decimals="-6" scale="6" sign="-" format="ixt:num-dot-decimal">1,234.5</ix:nonFraction>
<ix:nonNumeric name="x:B" contextRef="c" continuedAt="k">a<ix:exclude>skip</ix:exclude>b</ix:nonNumeric><ix:continuation id="k">more</ix:continuation></p></body></html>`

func FuzzParseSGML(f *testing.F) {
	seedPrefix(f, "sgml/0000950129-95-001652.txt", 4096)
	f.Add([]byte("<SEC-HEADER>\nACCESSION NUMBER: 1\nFILER:\n\tCOMPANY DATA:\n\t\tCENTRAL INDEX KEY: 2\n</SEC-HEADER>\n<DOCUMENT>\n<TYPE>X\n<SEQUENCE>1\n<TEXT>\nbegin 644 a\n#86)C\n`\nend\n</TEXT>\n</DOCUMENT>"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ParseSGML(bytes.NewReader(in))
		if err != nil {
			return
		}
		total := 0
		for _, d := range s.Documents {
			total += len(d.Body)
			if d.Uuencoded {
				// A line declares at most 63 bytes; missing characters
				// (stripped trailing spaces) decode as zeros, so a short
				// line may give more bytes than it has, never more than 63.
				lines := bytes.Count(d.Body, []byte("\n")) + 1
				if out, err := d.Decode(); err == nil && len(out) > 63*lines {
					t.Fatalf("decoded %d bytes from %d lines", len(out), lines)
				}
			}
		}
		if total > len(in) || len(s.Parties) > len(in) {
			t.Fatalf("output larger than input")
		}
	})
}

func checkInstance(t *testing.T, in *Instance, n int) {
	if len(in.Facts)+len(in.Issues) > n || len(in.Contexts) > n || len(in.Units) > n {
		t.Fatalf("more facts than input bytes")
	}
	for _, f := range in.Facts {
		if f.Context == nil || f.Numeric && f.Unit == nil && !f.Nil {
			t.Fatalf("unresolved fact %+v", f)
		}
		if f.Numeric {
			_ = f.Value.String()
		}
	}
}

func FuzzParseXBRL(f *testing.F) {
	f.Add([]byte(smallXBRL))
	seedPrefix(f, "xbrl/nflx-20100930.xml", 4096)
	f.Fuzz(func(t *testing.T, in []byte) {
		if x, err := ParseXBRL(bytes.NewReader(in)); err == nil {
			checkInstance(t, x, len(in))
		}
	})
}

// addIXSeeds adds short inline XBRL seeds, well-formed and not: the
// fuzzer minimizes every new input with work quadratic in its length, and
// inputs grown from the 700-byte smallIX kept both workers minimizing for
// a whole 20-second run (6 executions; smallIX is a unit test's input).
func addIXSeeds(f *testing.F) {
	f.Add([]byte(`<ix:header><ix:resources><xbrli:context id="c"><xbrli:entity><xbrli:identifier>1</xbrli:identifier></xbrli:entity>` +
		`<xbrli:period><xbrli:instant>2020-01-01</xbrli:instant></xbrli:period></xbrli:context><xbrli:unit id="u"><xbrli:measure>x:U</xbrli:measure></xbrli:unit>` +
		`</ix:resources></ix:header><ix:nonFraction name="x:A" contextRef="c" unitRef="u" scale="3">1,2</b></ix:nonFraction>`))
	f.Add([]byte(`<ix:nonNumeric name="x:B" contextRef="c" continuedAt="k">a<ix:exclude>s</ix:exclude></ix:nonFraction><ix:continuation id="k">m</i></ix:continuation>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "&b;&b;">]><p a=1 a=2 b:c:d=3><a:b:c>&a;&amp;&#0;&nbsp;</i></p><br></br><![CDATA[<x>]]>`))
}

func FuzzParseInlineXBRL(f *testing.F) {
	addIXSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		if x, err := ParseInlineXBRL(bytes.NewReader(in)); err == nil {
			checkInstance(t, x, len(in))
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"cik":"0000000001","entityName":"A","facts":{"dei":{"X":{"label":"L","units":{"USD":[{"start":"2020-01-01","end":"2020-12-31","val":1.5,"accn":"a","fy":2020,"fp":"FY","form":"10-K","filed":"2021-01-01","frame":"CY2020"}]}}}}}`))
	f.Add([]byte(`{"cik":"1","name":"T","filings":{"recent":{"accessionNumber":["a"],"form":["4"],"filingDate":["2020-01-01"],"reportDate":[""],"acceptanceDateTime":["2020-01-01T00:00:00.000Z"],"primaryDocument":["x"],"size":[1],"isXBRL":[0],"isInlineXBRL":[1]},"files":[{"name":"f"}]}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if cf, err := ParseCompanyFacts(bytes.NewReader(in)); err == nil {
			for _, m := range cf.Concepts {
				for _, c := range m {
					for _, fs := range c.Units {
						for _, x := range fs {
							_ = x.Val.String()
						}
					}
				}
			}
		}
		if s, err := ParseSubmissions(bytes.NewReader(in)); err == nil && len(s.Recent) > len(in) {
			t.Fatalf("%d filings from %d bytes", len(s.Recent), len(in))
		}
	})
}

func FuzzSectionsAndIndex(f *testing.F) {
	f.Add([]byte(`<div>PART I</div><div>Item 1. Business</div><p>x &amp; y</p><table><tr><td>Item 2.</td></tr></table><script>Item 3</script>`))
	seedPrefix(f, "index/form.20200318.idx", 2048)
	f.Fuzz(func(t *testing.T, in []byte) {
		if secs, err := Sections(in); err == nil {
			total := 0
			for _, s := range secs {
				total += len(s.Text)
			}
			// Entity decoding can only shrink text; "\n" joins replace tags.
			if total > len(in) {
				t.Fatalf("%d bytes of text from %d", total, len(in))
			}
		}
		if es, _, _, err := source.ParseIndex(in); err == nil && len(es) > len(in) {
			t.Fatal("more entries than bytes")
		}
	})
}

// FuzzRecoverInlineXBRL drives the recovering reading directly, well-formed
// input or not: whatever the HTML5 tokenizer makes of the bytes, wellFormed
// must give well-formed XML (a strict encoding/xml reading gets to the end)
// at most a few times the input's size, and recoverIX must not panic and
// give no more facts than bytes. The seeds are short: the fuzzer minimizes
// every new input with work quadratic in its length (addIXSeeds).
func FuzzRecoverInlineXBRL(f *testing.F) {
	addIXSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		var rec Recovery
		out := wellFormed(in, &rec)
		if len(out) > 8*len(in)+64 {
			t.Fatalf("%d bytes of XML from %d", len(out), len(in))
		}
		d := xml.NewDecoder(bytes.NewReader(out))
		for {
			if _, err := d.RawToken(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("not well-formed after recovery: %v\n%q", err, out)
			}
		}
		o := IXOptions{MaxText: DefaultMaxIXText, MaxNesting: DefaultMaxIXNesting}
		if x, err := recoverIX(in, o, errors.New("fuzz")); err == nil {
			checkInstance(t, x, len(in))
		}
	})
}
