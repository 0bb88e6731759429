package link

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	f := func(pat, topic string, want bool) {
		t.Helper()
		p, err := parsePattern(pat)
		if err != nil {
			t.Fatalf("parsePattern(%q): %v", pat, err)
		}
		if got := p.match(topic); got != want {
			t.Errorf("%q matches %q = %v, want %v", pat, topic, got, want)
		}
	}
	f("decisions", "decisions", true)
	f("decisions", "decisions2", false)
	f("decisions", "decision", false)
	f("feature_windows:market", "feature_windows:market", true)
	f("feature_windows:market", "feature_windows:edgar", false)
	f("feature_windows:*", "feature_windows:edgar", true)
	f("fl.*", "fl.round.completed", true)
	f("fl.*", "fl.", true)
	f("fl.*", "fl", false)
	f("fl.*", "flx.round", false)
	f("fl.round.*", "fl.round.started", true)
	f("fl.round.*", "fl.lease.granted", false)
	f("fl*", "flx", true)
	f("*", "decisions", true)
	f("*", "fl.round.completed", true)
}

func TestParsePatternErrors(t *testing.T) {
	f := func(pat, wantIn string) {
		t.Helper()
		_, err := parsePattern(pat)
		if !errors.Is(err, ErrInvalidTopic) {
			t.Fatalf("parsePattern(%q) = %v, want ErrInvalidTopic", pat, err)
		}
		if !strings.Contains(err.Error(), wantIn) {
			t.Errorf("parsePattern(%q) error %q does not say %q", pat, err, wantIn)
		}
	}
	f("", "empty")
	f("a b", "0x20")
	f("a,b", "0x2c")
	f("a*b", "last character")
	f("**", "last character")
	f("fl.**", "last character")
	f("dé", "0xc3")
	f("a\nb", "0x0a")
	f("a\x7f", "0x7f")
	f(strings.Repeat("x", MaxTopicLen+1), "longer than")
	if _, err := parsePattern(strings.Repeat("x", MaxTopicLen) + "*"); err != nil {
		t.Errorf("a prefix of MaxTopicLen bytes plus '*': %v", err)
	}
}

func TestParseTopics(t *testing.T) {
	f := func(q string, want ...string) {
		t.Helper()
		got, err := ParseTopics(q)
		if err != nil {
			t.Fatalf("ParseTopics(%q): %v", q, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("ParseTopics(%q) = %q, want %q", q, got, want)
		}
	}
	f("decisions", "decisions")
	f("decisions,risk", "decisions", "risk")
	f(" decisions , risk ", "decisions", "risk")
	f("fl.*,*,decisions,fl.*", "fl.*", "*", "decisions")
	f("feature_windows:market,feature_windows:edgar", "feature_windows:market", "feature_windows:edgar")

	bad := func(q string, want error) {
		t.Helper()
		if _, err := ParseTopics(q); !errors.Is(err, want) {
			t.Errorf("ParseTopics(%q) = %v, want %v", q, err, want)
		}
	}
	bad("", ErrNoPatterns)
	bad("  ", ErrNoPatterns)
	bad("a,,b", ErrInvalidTopic)
	bad("a,", ErrInvalidTopic)
	bad(",a", ErrInvalidTopic)
	bad("a*b", ErrInvalidTopic)
	bad("a\tb", ErrInvalidTopic)
	bad(strings.Repeat("a,", MaxPatterns)+"a", ErrInvalidTopic)
}

func TestValidTopicAgreesWithTopicProblem(t *testing.T) {
	for _, s := range []string{"", "a", "a b", "a*", "a,b", "fl.round.completed", "x\x00", strings.Repeat("y", MaxTopicLen), strings.Repeat("y", MaxTopicLen+1)} {
		if ValidTopic(s) != (topicProblem(s) == "") {
			t.Errorf("%q: ValidTopic=%v, topicProblem=%q", s, ValidTopic(s), topicProblem(s))
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	f := func(o Options, field string) {
		t.Helper()
		err := o.Validate()
		if field == "" {
			if err != nil {
				t.Errorf("%+v: %v", o, err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%+v: error %v, want one naming %s", o, err, field)
		}
	}
	f(Options{}, "")
	f(Options{QueueLen: 1, RecentLen: 1, MaxTopics: 1}, "")
	f(Options{QueueLen: -1}, "QueueLen")
	f(Options{QueueLen: maxQueueLen + 1}, "QueueLen")
	f(Options{RecentLen: -1}, "RecentLen")
	f(Options{MaxTopics: -5}, "MaxTopics")

	defer func() {
		if r := recover(); r == nil {
			t.Error("New with an invalid Options did not panic")
		}
	}()
	New(Options{QueueLen: -1})
}

func TestSSEOptionsValidate(t *testing.T) {
	for _, o := range []SSEOptions{{Heartbeat: -1}, {WriteTimeout: -1}, {MaxReplay: -1}} {
		if _, err := NewSSEHandler(New(Options{}), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if _, err := NewSSEHandler(New(Options{}), SSEOptions{}); err != nil {
		t.Error(err)
	}
}

func TestReason(t *testing.T) {
	f := func(err error, want string) {
		t.Helper()
		if got := Reason(err); got != want {
			t.Errorf("Reason(%v) = %q, want %q", err, got, want)
		}
	}
	f(nil, "")
	f(ErrSlowSubscriber, ReasonSlowSubscriber)
	f(ErrClosed, ReasonClosed)
	f(ErrBusClosed, ReasonBusClosed)
	f(errors.New("other"), "")
}
