package edgar

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseFormIndex(t *testing.T) {
	es, err := ParseFormIndex(bytes.NewReader(readData(t, "index/form.20200318.idx")))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 4084 { // grep -c edgar/data/
		t.Fatalf("entries %d", len(es))
	}
	first := IndexEntry{"1-A", "DLP Positive Note Fund LLC", "0001806014", date(2020, 3, 18), "edgar/data/1806014/0001140361-20-006155.txt"}
	last := IndexEntry{"X-17A-5/A", "USA FINANCIAL SECURITIES CORPORATION", "0001105608", date(2020, 3, 18), "edgar/data/1105608/0001105608-20-000004.txt"}
	if es[0] != first || es[len(es)-1] != last {
		t.Errorf("first %+v last %+v", es[0], es[len(es)-1])
	}
	if es[2].FormType != "1-A POS" || es[2].CompanyName != "Belpointe REIT, Inc." || es[3].CIK != "0000927719" {
		t.Errorf("entries 2,3: %+v %+v", es[2], es[3])
	}
	if es[0].Accession() != "0001140361-20-006155" {
		t.Errorf("accession %q", es[0].Accession())
	}
	// Correspondence is disseminated late: not every Date Filed is the index day.
	other := 0
	for _, e := range es {
		if e.Accession() == "" || e.CIK == "" || e.FormType == "" || e.CompanyName == "" {
			t.Fatalf("entry %+v", e)
		}
		if !e.DateFiled.Equal(date(2020, 3, 18)) {
			other++
		}
	}
	if other != 144 { // grep -v 20200318 | grep -c edgar/data
		t.Errorf("%d entries filed on another day, want 144", other)
	}
}

func TestParseCompanyIndex(t *testing.T) {
	es, err := ParseCompanyIndex(bytes.NewReader(readData(t, "index/company.20221003.idx")))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 4925 {
		t.Fatalf("entries %d", len(es))
	}
	first := IndexEntry{"1-A POS", "1st stREIT Office Inc.", "0001700461", date(2022, 10, 3), "edgar/data/1700461/0001104659-22-105357.txt"}
	last := IndexEntry{"424B5", "voxeljet AG", "0001582581", date(2022, 10, 3), "edgar/data/1582581/0001558370-22-014789.txt"}
	if es[0] != first || es[len(es)-1] != last {
		t.Errorf("first %+v last %+v", es[0], es[len(es)-1])
	}
	if es[2].FormType != "SC 13D/A" || es[2].CompanyName != "36Kr Holdings Inc." {
		t.Errorf("entry 2 %+v", es[2])
	}
}

func TestIndexOverflowAndErrors(t *testing.T) {
	// A company name that runs into the Form Type column.
	in := "Company Name                                                  Form Type   CIK         Date Filed  File Name\n" +
		"-----------------------\n" +
		"A VERY LONG COMPANY NAME THAT RUNS PAST THE SIXTY-TWO COLUMN LIMIT  10-K  123  20221003  edgar/data/123/0000000123-22-000001.txt\n"
	es, err := ParseCompanyIndex(strings.NewReader(in))
	if err != nil || len(es) != 1 || es[0].FormType != "10-K" || es[0].CompanyName != "A VERY LONG COMPANY NAME THAT RUNS PAST THE SIXTY-TWO COLUMN LIMIT" {
		t.Errorf("%v %+v", err, es)
	}
	for _, bad := range []string{"no rule\n", "-----------\nX  Y  abc  20200101  f\n", "-----------\nX  Y  1  2020  f\n", "-----------\nonly two\n"} {
		if _, err := ParseFormIndex(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseFormIndex(%q) succeeded", bad)
		}
	}
}
