package source

import (
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	f := func(name, head string, want Kind) {
		t.Helper()
		if got := Sniff(name, []byte(head)); got != want {
			t.Errorf("Sniff(%q, %.60q) = %v, want %v", name, head, got, want)
		}
	}
	f("x.txt", "<SEC-DOCUMENT>0000950129-95-001652.txt : 19960102\n", KindSGML)
	f("x.txt", "-----BEGIN PRIVACY-ENHANCED MESSAGE-----\nProc-Type: 2001,MIC-CLEAR\n\n<SEC-DOCUMENT>x\n", KindSGML)
	f("x.hdr", "<SEC-HEADER>0001.hdr.sgml : 20250110\n", KindSGML)
	f("x.txt", "a mention of <SEC-HEADER> inside a line", KindUnknown)
	f("x.xml", `<?xml version="1.0"?><!-- c --><xbrli:xbrl xmlns:xbrli="http://www.xbrl.org/2003/instance">`, KindXBRL)
	f("x.xml", "<xbrl\n  xmlns=\"http://www.xbrl.org/2003/instance\">", KindXBRL)
	f("x.xml", `<?xml version="1.0"?><xbrlx>`, KindUnknown)
	f("x.xml", `<?xml version="1.0"?><linkbase>`, KindUnknown)
	f("x.htm", "<!DOCTYPE html>\n<html><body>Item 7", KindHTML)
	f("x", "<HTML><BODY>1997 10-K</BODY></HTML>", KindHTML)
	f("x", "<!doctype HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><head>", KindHTML)
	f("x", `<html xmlns="http://www.w3.org/1999/xhtml" xmlns:ix="http://www.xbrl.org/2013/inlineXBRL">`, KindInlineXBRL)
	f("x", `<html><body><div style="display:none"><ix:header>`, KindInlineXBRL)
	f("x.htm", "<div>fragment</div>", KindHTML)
	f("x.xml", "<div>fragment</div>", KindUnknown)
	f("x.json", `{"cik": "0001997711", "entityName": "x", "facts": {}}`, KindCompanyFacts)
	f("x.json", "\ufeff{\n \"cik\" : \"1318605\",\n \"filings\": {\"recent\": {}}}", KindSubmissions)
	f("x.json", `{"facts": {}}`, KindUnknown)
	f("x.json", `{"cik": "1", "name": "facts"}`, KindUnknown)
	f("master.idx", "Description: Master Index\n\nCIK|Company Name|Form Type|Date Filed|Filename\n--------------------------------------------------------------------------------\n1000045|NICHOLAS FINANCIAL INC|10-Q|2024-02-14|edgar/data/1000045/0000950170-24-014077.txt\n", KindIndex)
	f("form.idx", "Form Type   Company Name   CIK   Date Filed  File Name\n", KindUnknown) // no rule of dashes yet
	f("x", "hello", KindUnknown)
	f("x", "", KindUnknown)
	f("x", "\x00\x01\x02PK\x03\x04", KindUnknown)
	f("x", "<", KindUnknown)
	f("x", "<!-- never closed", KindUnknown)

	// Only the first SniffLen bytes count.
	late := strings.Repeat("x\n", SniffLen/2) + "<SEC-HEADER>\n"
	f("x.txt", late, KindUnknown)
}

func TestSniffSamples(t *testing.T) {
	for _, c := range []struct {
		rel  string
		want Kind
	}{
		{"html/Apple.10-K.html", KindInlineXBRL},
		{"html/Apple.10-Q.html", KindInlineXBRL},
		{"index/company.20221003.idx", KindIndex},
		{"index/form.20200318.idx", KindIndex},
		{"json/CIK0001318605.submissions.json", KindSubmissions},
		{"json/CIK0001997711.companyfacts.json", KindCompanyFacts},
		{"sgml/0000950129-95-001652.txt", KindSGML},
		{"xbrl/nflx-20100930.xml", KindXBRL},
	} {
		b := readSample(t, c.rel)
		// The extension must not decide: the same bytes under a neutral name.
		for _, name := range []string{c.rel, "doc.bin"} {
			if got := Sniff(name, b); got != c.want {
				t.Errorf("Sniff(%s as %q) = %v, want %v", c.rel, name, got, c.want)
			}
		}
	}
}

func TestKindString(t *testing.T) {
	want := []string{"unknown", "sgml", "xbrl", "ixbrl", "html", "companyfacts", "submissions", "index"}
	for k, w := range want {
		if got := Kind(k).String(); got != w {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, w)
		}
	}
	if got := Kind(200).String(); got != "unknown" {
		t.Errorf("Kind(200).String() = %q", got)
	}
}
