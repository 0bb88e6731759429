package postgres

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAppendJSONString: the output is always valid JSON and, for valid
// UTF-8 without NUL, decodes back to the input.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "bid_px", `a"b\c`, "tab\there\n", "\x00", "\xff\xfe", "é€😀", "\x7f\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendJSONString(nil, s)
		if !json.Valid(out) {
			t.Fatalf("%q → invalid JSON %s", s, out)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(s) && !strings.ContainsRune(s, 0) && back != s {
			t.Fatalf("%q → %s → %q", s, out, back)
		}
	})
}

func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"ts_recv": `"ts_recv"`, `a"b\c`: `"a\"b\\c"`, "x\ny\x01": `"x\u000ay\u0001"`, "\x00": `"\ufffd"`, "a\xffb": `"a\ufffdb"`, "é": `"é"`,
	} {
		if got := string(appendJSONString(nil, in)); got != want {
			t.Errorf("%q → %s, want %s", in, got, want)
		}
	}
}
