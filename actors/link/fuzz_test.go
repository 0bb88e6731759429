package link

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseTopics: the topics query parser never panics; what it accepts
// round-trips, and every accepted pattern matches as specified.
func FuzzParseTopics(f *testing.F) {
	for _, s := range []string{"decisions,risk", "fl.*", "*", " a , b ", "a,,b", "a*b", "feature_windows:market,feature_windows:edgar", "é", ",", "**"} {
		f.Add(s, "fl.round.completed")
	}
	f.Fuzz(func(t *testing.T, q, topic string) {
		ps, err := parseTopicsQuery(q)
		if err != nil {
			return
		}
		if len(ps) == 0 || len(ps) > MaxPatterns {
			t.Fatalf("%q: %d patterns", q, len(ps))
		}
		strs, err := ParseTopics(q)
		if err != nil {
			t.Fatalf("%q: parseTopicsQuery accepted, ParseTopics: %v", q, err)
		}
		again, err := parseTopicsQuery(strings.Join(strs, ","))
		if err != nil || len(again) != len(ps) {
			t.Fatalf("%q: re-parsing %q: %v, %d patterns", q, strs, err, len(again))
		}
		for i, p := range ps {
			if again[i] != p {
				t.Fatalf("%q: pattern %d %v re-parsed as %v", q, i, p, again[i])
			}
			if !p.prefix && !ValidTopic(p.s) || p.prefix && p.s != "" && !ValidTopic(p.s) {
				t.Fatalf("%q: accepted pattern %v with an invalid topic", q, p)
			}
			if !ValidTopic(topic) {
				continue
			}
			want := topic == p.s
			if p.prefix {
				want = strings.HasPrefix(topic, p.s)
			}
			if p.match(topic) != want {
				t.Fatalf("%v matches %q = %v, want %v", p, topic, !want, want)
			}
		}
		if ValidTopic(topic) {
			for _, pat := range []string{topic, topic + "*", "*"} {
				p, err := parsePattern(pat)
				if len(pat) <= MaxTopicLen+1 && err != nil {
					t.Fatalf("valid topic %q: pattern %q refused: %v", topic, pat, err)
				}
				if err == nil && !p.match(topic) {
					t.Fatalf("pattern %q does not match %q", pat, topic)
				}
			}
		}
	})
}

// FuzzAppendEvent: whatever the payload bytes, the frame written for an event
// parses back (as EventSource parses) to one event with its id, topic and
// payload, line ends normalised to "\n".
func FuzzAppendEvent(f *testing.F) {
	f.Add("decisions", uint64(1), []byte(`{"a":1}`))
	f.Add("fl.round.completed", uint64(7), []byte("{\n  \"a\": 1\r\n}\r"))
	f.Add("risk", uint64(0), []byte(""))
	f.Add("risk", uint64(1<<63), []byte("\n\n:comment\nid: 3\n\nevent: x\n"))
	f.Fuzz(func(t *testing.T, topic string, seq uint64, data []byte) {
		if !ValidTopic(topic) {
			return
		}
		ev := Event{Topic: topic, Seq: seq, At: time.Unix(0, 0), Data: data}
		frames := parseSSE(appendEvent(nil, &ev))
		if len(frames) != 1 {
			t.Fatalf("%d frames, want 1", len(frames))
		}
		fr := frames[0]
		want := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
		if !fr.HasID || fr.ID != strconv.FormatUint(seq, 10) || fr.Event != topic || !fr.HasData || fr.Data != want || len(fr.Comments) != 0 {
			t.Fatalf("frame %+v, want id %d event %q data %q", fr, seq, topic, want)
		}
	})
}
