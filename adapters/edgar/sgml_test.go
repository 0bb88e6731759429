package edgar

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// dataDir is the shared real-data directory (see /work/shared/data/README.md).
const dataDir = "../../../shared/data/edgar"

func readData(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return b
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseSGML1995(t *testing.T) {
	s, err := ParseSGML(bytes.NewReader(readData(t, "sgml/0000950129-95-001652.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if s.AccessionNumber != "0000950129-95-001652" || s.Type != "24F-2NT" || s.PublicDocumentCount != 2 {
		t.Errorf("header: %q %q %d", s.AccessionNumber, s.Type, s.PublicDocumentCount)
	}
	if !s.PeriodOfReport.Equal(date(1995, 10, 31)) || !s.FiledAsOf.Equal(date(1995, 12, 28)) || !s.Accepted.IsZero() {
		t.Errorf("dates: %v %v %v", s.PeriodOfReport, s.FiledAsOf, s.Accepted)
	}
	f, ok := s.Filer()
	if !ok || f.Name != "COMMON SENSE TRUST" || f.CIK != "0000810271" || f.FileNumber != "033-11716" || f.FiscalYearEnd != "1031" {
		t.Errorf("filer: %+v", f)
	}
	if got := f.Fields["BUSINESS ADDRESS/CITY"]; len(got) != 1 || got[0] != "HOUSTON" {
		t.Errorf("city: %v", got)
	}
	if len(s.Documents) != 2 {
		t.Fatalf("documents: %d", len(s.Documents))
	}
	d0, d1 := s.Documents[0], s.Documents[1]
	if d0.Type != "24F-2NT" || d0.Sequence != 1 || d0.Filename != "" || d0.Description != "VKAC COMMON SENSE TRUST - GROWTH FUND - 24F-2" || d0.Uuencoded {
		t.Errorf("doc 1: %+v", d0.Type)
	}
	if !bytes.HasPrefix(d0.Body, []byte("\n<PAGE>   1\n")) {
		t.Errorf("doc 1 body starts %q", d0.Body[:20])
	}
	if d1.Type != "EX-99.11" || d1.Sequence != 2 || d1.Description != "OPINION OF SULLIVAN & WORCESTER" {
		t.Errorf("doc 2: %q %d %q", d1.Type, d1.Sequence, d1.Description)
	}
}

func TestParseSGMLTender2025(t *testing.T) {
	s, err := ParseSGML(bytes.NewReader(readData(t, "sgml/0001104659-25-002604.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if s.AccessionNumber != "0001104659-25-002604" || s.Type != "SC TO-T/A" || !s.FiledAsOf.Equal(date(2025, 1, 10)) || !s.PeriodOfReport.IsZero() {
		t.Errorf("header: %q %q %v %v", s.AccessionNumber, s.Type, s.FiledAsOf, s.PeriodOfReport)
	}
	wantAcc := time.Date(2025, 1, 10, 17, 15, 38, 0, newYork)
	if !s.Accepted.Equal(wantAcc) || s.Accepted.UTC().Hour() != 22 {
		t.Errorf("accepted %v", s.Accepted)
	}
	if len(s.GroupMembers) != 6 || s.GroupMembers[2] != "CARL C. ICAHN" {
		t.Errorf("group members %q", s.GroupMembers)
	}
	if len(s.Parties) != 3 || s.Parties[0].Role != "SUBJECT COMPANY" || s.Parties[0].CIK != "0001376139" || s.Parties[0].Name != "CVR ENERGY INC" || s.Parties[0].FormType != "SC 13D/A" {
		t.Fatalf("parties: %+v", s.Parties)
	}
	f, _ := s.Filer()
	if f.Role != "FILED BY" || f.Name != "ICAHN ENTERPRISES HOLDINGS L.P." || f.CIK != "0001034563" ||
		len(f.FormerNames) != 1 || f.FormerNames[0] != (FormerName{"AMERICAN REAL ESTATE HOLDINGS L P", "19980311"}) {
		t.Errorf("filer %+v", f)
	}
	if len(s.Documents) != 2 || s.Documents[0].Filename != "tm252901d1_sctota.htm" || s.Documents[1].Type != "EX-99.(A)(5)(C)" || s.Documents[1].Sequence != 2 {
		t.Errorf("documents %d", len(s.Documents))
	}
}

func TestParseSGML8K2025(t *testing.T) {
	s, err := ParseSGML(bytes.NewReader(readData(t, "sgml/0001213900-25-032135.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if s.Type != "8-K" || s.PublicDocumentCount != 15 || !s.PeriodOfReport.Equal(date(2025, 4, 15)) || len(s.Items) != 4 || s.Items[3] != "Financial Statements and Exhibits" {
		t.Errorf("header: %q %d %v %q", s.Type, s.PublicDocumentCount, s.PeriodOfReport, s.Items)
	}
	if !s.Accepted.Equal(time.Date(2025, 4, 15, 16, 30, 25, 0, newYork)) {
		t.Errorf("accepted %v", s.Accepted)
	}
	f, _ := s.Filer()
	if f.Name != "ABVC BIOPHARMA, INC." || f.CIK != "0001173313" || len(f.FormerNames) != 3 || f.FormerNames[2].Name != "ECOLOGY COATINGS, INC." {
		t.Errorf("filer %+v", f)
	}
	// 14 documents are present although the header counts 15.
	if len(s.Documents) != 14 {
		t.Fatalf("documents: %d", len(s.Documents))
	}
	seqs := []int{1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 13, 15, 16, 17}
	var uu []string
	for i, d := range s.Documents {
		if d.Sequence != seqs[i] {
			t.Errorf("doc %d sequence %d want %d", i, d.Sequence, seqs[i])
		}
		if d.Uuencoded {
			uu = append(uu, d.Filename)
		}
	}
	if len(uu) != 3 || uu[0] != "ex99-1_001.jpg" || uu[1] != "Financial_Report.xlsx" || uu[2] != "0001213900-25-032135-xbrl.zip" {
		t.Errorf("uuencoded: %q", uu)
	}
	jpg, err := s.Documents[2].Decode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(jpg, []byte{0xFF, 0xD8, 0xFF}) || !bytes.HasSuffix(jpg, []byte{0xFF, 0xD9}) {
		t.Errorf("decoded jpg: %d bytes, head % x", len(jpg), jpg[:4])
	}
	zip, err := s.Documents[12].Decode()
	if err != nil || !bytes.HasPrefix(zip, []byte("PK\x03\x04")) {
		t.Fatalf("decoded zip: %v %d", err, len(zip))
	}
	last := s.Documents[13]
	if last.Type != "XML" || last.Filename != "ea0238372-8k_abvcbio_htm.xml" || !bytes.HasPrefix(last.Body, []byte("<XML>\n<?xml")) {
		t.Errorf("last doc %q %q", last.Filename, last.Body[:12])
	}
	if _, err := s.Documents[0].Decode(); err == nil {
		t.Error("Decode of a text document succeeded")
	}
}

func TestParseSGMLErrors(t *testing.T) {
	for _, in := range []string{"", "hello", "<SEC-HEADER>\nACCESSION NUMBER: 1\n", "<SEC-HEADER>\nFOO: x\n</SEC-HEADER>",
		"<SEC-HEADER>\nACCESSION NUMBER: 1\nFILED AS OF DATE: 2020\n</SEC-HEADER>",
		"<SEC-HEADER>\nACCESSION NUMBER: 1\n</SEC-HEADER>\n<DOCUMENT>\n<TYPE>X\n<TEXT>\nabc"} {
		if _, err := ParseSGML(bytes.NewReader([]byte(in))); err == nil {
			t.Errorf("ParseSGML(%q) succeeded", in)
		}
	}
}
