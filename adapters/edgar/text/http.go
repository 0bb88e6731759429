package text

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// HTTPScorer asks a sentiment model served over HTTP (for example a
// finance-tuned transformer behind a small web server): it POSTs the text
// as text/plain; charset=utf-8 to URL and reads a JSON answer with the
// counts of Sentiment:
//
//	{"words": 11745, "positive": 55, "negative": 271, "uncertainty": 251,
//	 "litigious": 77, "constraining": 116}
//
// A model that scores probabilities rather than words scales them to the
// text's word count. Wrap it in Timed: a slow or failing model then falls
// back to the word list instead of holding the pipeline.
type HTTPScorer struct {
	URL    string
	Client *http.Client // nil: http.DefaultClient
}

// Score implements Scorer.
func (h HTTPScorer) Score(ctx context.Context, text string) (Sentiment, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, strings.NewReader(text))
	if err != nil {
		return Sentiment{}, fmt.Errorf("sentiment model %s: %w", h.URL, err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return Sentiment{}, fmt.Errorf("sentiment model %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Sentiment{}, fmt.Errorf("sentiment model %s: status %d", h.URL, resp.StatusCode)
	}
	var a struct {
		Words, Positive, Negative, Uncertainty, Litigious, Constraining *int
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, 1<<16))
	if err := dec.Decode(&a); err != nil {
		return Sentiment{}, fmt.Errorf("sentiment model %s: answer: %w", h.URL, err)
	}
	vals := []*int{a.Words, a.Positive, a.Negative, a.Uncertainty, a.Litigious, a.Constraining}
	names := []string{"words", "positive", "negative", "uncertainty", "litigious", "constraining"}
	for i, v := range vals {
		if v == nil || *v < 0 {
			return Sentiment{}, fmt.Errorf("sentiment model %s: answer: %q missing or negative", h.URL, names[i])
		}
	}
	return Sentiment{Words: *a.Words, Positive: *a.Positive, Negative: *a.Negative, Uncertainty: *a.Uncertainty,
		Litigious: *a.Litigious, Constraining: *a.Constraining}, nil
}
