package link

import (
	"fmt"
	"strings"
)

const (
	// MaxTopicLen is the longest topic name, in bytes.
	MaxTopicLen = 200
	// MaxPatterns is the most patterns one subscription may name.
	MaxPatterns = 64
)

// topicProblem says what is wrong with a topic name, or "" if it is valid.
// A topic is 1..MaxTopicLen bytes of printable ASCII other than space, ','
// (the separator of the SSE topics query) and '*' (the wildcard).
func topicProblem(s string) string {
	if len(s) == 0 {
		return "empty"
	}
	if len(s) > MaxTopicLen {
		return fmt.Sprintf("longer than %d bytes", MaxTopicLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' || c == '*' {
			return fmt.Sprintf("byte %#02x at offset %d is not allowed (printable ASCII except space, ',' and '*')", c, i)
		}
	}
	return ""
}

// ValidTopic reports whether s can be published to: 1..MaxTopicLen bytes of
// printable ASCII other than space, ',' and '*'.
func ValidTopic(s string) bool {
	if len(s) == 0 || len(s) > MaxTopicLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' || c == '*' {
			return false
		}
	}
	return true
}

// pattern is a parsed subscription pattern: an exact topic, or a prefix when
// the pattern ended in '*' ("*" alone is the empty prefix: every topic).
type pattern struct {
	s      string
	prefix bool
}

func (p pattern) match(topic string) bool {
	if p.prefix {
		return strings.HasPrefix(topic, p.s)
	}
	return topic == p.s
}

func (p pattern) String() string {
	if p.prefix {
		return p.s + "*"
	}
	return p.s
}

// parsePattern parses one pattern: a valid topic, or a valid topic prefix
// followed by one '*' ("fl.*" matches every topic starting with "fl."), or
// "*" alone (every topic).
func parsePattern(s string) (pattern, error) {
	if s == "*" {
		return pattern{prefix: true}, nil
	}
	base, prefix := strings.CutSuffix(s, "*")
	if len(base) == 0 && !prefix {
		return pattern{}, fmt.Errorf("%w %q: empty", ErrInvalidTopic, s)
	}
	if why := topicProblem(base); why != "" {
		if strings.IndexByte(base, '*') >= 0 {
			why = "'*' is allowed only as the last character"
		}
		return pattern{}, fmt.Errorf("%w %q: %s", ErrInvalidTopic, s, why)
	}
	return pattern{s: base, prefix: prefix}, nil
}

// parsePatterns parses and de-duplicates a list of patterns (first occurrence
// wins the order).
func parsePatterns(list []string) ([]pattern, error) {
	if len(list) == 0 {
		return nil, ErrNoPatterns
	}
	if len(list) > MaxPatterns {
		return nil, fmt.Errorf("%w: %d patterns, at most %d", ErrInvalidTopic, len(list), MaxPatterns)
	}
	out := make([]pattern, 0, len(list))
next:
	for _, s := range list {
		p, err := parsePattern(s)
		if err != nil {
			return nil, err
		}
		for _, q := range out {
			if q == p {
				continue next
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseTopics parses the value of the SSE "topics" query parameter: patterns
// separated by ',', each trimmed of surrounding spaces. An empty element
// ("a,,b", a trailing comma) is an error, as is any invalid pattern.
func ParseTopics(q string) ([]string, error) {
	ps, err := parseTopicsQuery(q)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out, nil
}

func parseTopicsQuery(q string) ([]pattern, error) {
	if strings.TrimSpace(q) == "" {
		return nil, ErrNoPatterns
	}
	parts := strings.Split(q, ",")
	if len(parts) > MaxPatterns {
		return nil, fmt.Errorf("%w: %d patterns, at most %d", ErrInvalidTopic, len(parts), MaxPatterns)
	}
	for i, s := range parts {
		parts[i] = strings.Trim(s, " ")
	}
	return parsePatterns(parts)
}
