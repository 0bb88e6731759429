package filings

import (
	"testing"

	"thunderline/adapters/edgar/edgarrec"
	"thunderline/hotpath/window"
)

// FuzzParse feeds any bytes as every kind through Parse and the window
// assembly: no panic, and every window that comes out decodes back with
// its hash.
func FuzzParse(f *testing.F) {
	f.Add(uint8(0), []byte(factsSeed))
	f.Add(uint8(1), []byte("<SEC-DOCUMENT>\n<SEC-HEADER>\nACCESSION NUMBER: 1\nCONFORMED SUBMISSION TYPE: 10-K\n</SEC-HEADER>\n<DOCUMENT>\n<TYPE>10-K\n<TEXT>\n<p>Item 1A. Risk Factors</p><p>loss</p>\n</TEXT>\n</DOCUMENT>\n</SEC-DOCUMENT>"))
	f.Add(uint8(4), []byte(`{"cik":1,"entityName":"x","facts":{"us-gaap":{"Revenues":{"units":{"USD":[{"end":"2024-03-31","start":"2024-01-01","val":5,"accn":"a","fy":2024,"fp":"Q1","form":"10-Q","filed":"2024-04-20"}]}}}}}`))
	kinds := []Kind{KindXBRL, KindSGML, KindInlineXBRL, KindHTML, KindCompanyFacts, KindSubmissions, KindIndex}
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := kinds[int(k)%len(kinds)]
		p, err := Parse("fuzz", kind, body)
		if err != nil {
			return
		}
		if _, err := edgarrec.DecodeDoc(edgarrec.AppendDoc(nil, &p.Doc)); err != nil {
			t.Fatalf("doc does not round-trip: %v", err)
		}
		c := NewCompany(1, Options{Tenant: "t"})
		for i := range p.Parts {
			w := c.Add(&p.Parts[i], "fuzz", uint64(i+1))
			if w == nil {
				continue
			}
			d, err := window.DecodeWindowRecord(window.AppendWindowRecordExt(nil, &w.W, "t", w.Key, w.Ext))
			if err != nil || d.Hash != w.W.Hash {
				t.Fatalf("window does not round-trip: %v", err)
			}
		}
	})
}

const factsSeed = `<xbrli:xbrl xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:dei="http://xbrl.sec.gov/dei/2024" xmlns:us-gaap="http://fasb.org/us-gaap/2024">
<xbrli:context id="c"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">5</xbrli:identifier></xbrli:entity><xbrli:period><xbrli:startDate>2024-01-01</xbrli:startDate><xbrli:endDate>2024-03-31</xbrli:endDate></xbrli:period></xbrli:context>
<xbrli:unit id="u"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>
<dei:DocumentType contextRef="c">10-Q</dei:DocumentType><us-gaap:Revenues contextRef="c" unitRef="u" decimals="0">10</us-gaap:Revenues>
<us-gaap:NetIncomeLoss contextRef="c" unitRef="u" decimals="0">-3</us-gaap:NetIncomeLoss></xbrli:xbrl>`
