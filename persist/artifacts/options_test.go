package artifacts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"thunderline/persist/artifacts"
	"thunderline/persist/artifacts/s3test"
)

func TestS3OptionsValidate(t *testing.T) {
	good := artifacts.S3Options{Endpoint: "127.0.0.1:7070", Bucket: "models", AccessKey: "ak", SecretKey: "sk", Prefix: "a/b/"}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	anon := artifacts.S3Options{Endpoint: "s3.example.com", Bucket: "public-models"}
	if err := anon.Validate(); err != nil {
		t.Fatalf("anonymous options: %v", err)
	}
	f := func(field string, edit func(o *artifacts.S3Options)) {
		t.Helper()
		o := good
		edit(&o)
		err := o.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "S3Options."+field) {
			t.Errorf("%+v: Validate() = %v, want an error naming S3Options.%s", o, err, field)
		}
	}
	f("Endpoint", func(o *artifacts.S3Options) { o.Endpoint = "" })
	f("Endpoint", func(o *artifacts.S3Options) { o.Endpoint = "http://127.0.0.1:7070" })
	f("Endpoint", func(o *artifacts.S3Options) { o.Endpoint = "host/path" })
	f("Bucket", func(o *artifacts.S3Options) { o.Bucket = "" })
	f("Bucket", func(o *artifacts.S3Options) { o.Bucket = "Upper_Case" })
	f("Bucket", func(o *artifacts.S3Options) { o.Bucket = "ab" })
	f("AccessKey", func(o *artifacts.S3Options) { o.AccessKey = "" })
	f("SecretKey", func(o *artifacts.S3Options) { o.SecretKey = "" })
	f("Prefix", func(o *artifacts.S3Options) { o.Prefix = "/abs" })
	f("Prefix", func(o *artifacts.S3Options) { o.Prefix = "a//b" })
	f("Prefix", func(o *artifacts.S3Options) { o.Prefix = "a/../b" })
	f("SpoolDir", func(o *artifacts.S3Options) { o.SpoolDir = "/nonexistent/spool" })
}

// TestSecretNeverPrinted: the secret key shows up in no formatting of the
// options, no log line, and no error of a failing NewS3 (bad options, wrong
// key on the real server).
func TestSecretNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-DO-NOT-PRINT-0123456789"
	o := artifacts.S3Options{Endpoint: "127.0.0.1:1", Bucket: "b", AccessKey: "ak", SecretKey: secret}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v %s %q\n", o, o, o, o, o)
	fmt.Fprintf(&out, "%v %+v\n", &o, []artifacts.S3Options{o})
	slog.New(slog.NewTextHandler(&out, nil)).Info("x", "opts", o)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "opts", o)
	bad := o
	bad.Bucket = "B"
	if err := bad.Validate(); err != nil {
		out.WriteString(err.Error())
	}
	if _, err := artifacts.NewS3(context.Background(), bad); err != nil {
		out.WriteString(err.Error())
	}
	real := s3test.Endpoint(t)
	wrong := real
	wrong.SecretKey = secret
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := artifacts.NewS3(ctx, wrong)
	if err == nil {
		t.Fatalf("NewS3 with a wrong secret key succeeded: %v", s)
	}
	out.WriteString(err.Error())
	if strings.Contains(out.String(), secret) {
		t.Fatalf("secret printed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "REDACTED") || !strings.Contains(out.String(), "127.0.0.1:1") {
		t.Fatalf("options not printed at all:\n%s", out.String())
	}
}

func TestArtifactJSON(t *testing.T) {
	a := artifacts.Artifact{URI: "file:///x/sha256/ab/ab", SHA256: sha256.Sum256([]byte("a")), Size: 1, Format: "bin"}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"uri":"file:///x/sha256/ab/ab","sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb","size":1,"format":"bin"}`
	if string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	var back artifacts.Artifact
	if err := json.Unmarshal(b, &back); err != nil || back != a {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
	for _, bad := range []string{`{"sha256":"abc"}`, `{"sha256":"` + strings.Repeat("zz", 32) + `"}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("unmarshal %s succeeded", bad)
		}
	}
}

func TestFromURIRejects(t *testing.T) {
	ctx := context.Background()
	h := fmt.Sprintf("%x", sha256.Sum256([]byte("a")))
	for _, uri := range []string{
		"http://x/sha256/" + h[:2] + "/" + h,                     // scheme
		"file:///tmp/" + h,                                       // no sha256/ab/
		"file:///tmp/sha256/" + h[:2] + "/" + h[:63],             // short hex
		"file:///tmp/sha256/00/" + h,                             // wrong fan-out
		"file:///tmp/sha256/" + h[:2] + "/" + strings.ToUpper(h), // not lower-case
		"file://otherhost/tmp/sha256/" + h[:2] + "/" + h,
		"s3:///sha256/" + h[:2] + "/" + h, // no bucket
	} {
		if _, _, err := artifacts.FromURI(ctx, uri, artifacts.S3Options{Endpoint: "127.0.0.1:1"}); err == nil {
			t.Errorf("FromURI(%s) succeeded", uri)
		}
	}
}
