package federation

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestFederationTracerExporters(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	tr, shutdown, err := Tracer(ctx, "stdout", "", &buf)
	if err != nil {
		t.Fatal(err)
	}
	_, sp := tr.Start(ctx, "round")
	sp.End()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"Name":"round"`) {
		t.Fatalf("stdout exporter wrote %q", buf.String())
	}
	if tr, _, err := Tracer(ctx, "", "", nil); err != nil || tr == nil {
		t.Fatalf("off: %v", err)
	}
	for _, bad := range []struct{ exp, ep string }{{"otlp", ""}, {"jaeger", ""}} {
		if _, _, err := Tracer(ctx, bad.exp, bad.ep, nil); err == nil {
			t.Fatalf("%s accepted", bad.exp)
		}
	}
}
