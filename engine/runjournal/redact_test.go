package runjournal

import (
	"strings"
	"testing"

	"thunderline/engine/config"
)

// TestMetaHasNoSecrets: inline admin tokens and the Postgres password
// never reach the journal's profile record; the recorded profile still
// parses (a replay reads it), with the tokens' roles and the DSN's user
// and host.
func TestMetaHasNoSecrets(t *testing.T) {
	for _, dsn := range []string{
		"postgres://ship:s3cr3t-PW@db.example:5432/thunder?sslmode=disable",
		"postgres://ship@db.example/thunder?password=s3cr3t-PW&sslmode=disable",
		"host=db.example user=ship password=s3cr3t-PW dbname=thunder",
		"host=db.example user=ship password='s3cr3t-PW with spaces' dbname=thunder",
		"host=db.example user=ship PASSWORD = s3cr3t-PW dbname=thunder",
	} {
		prof, err := config.Parse([]byte(`
admin:
  tokens:
    - {role: admin, value: "adm-s3cr3t-token-0123456789"}
    - {role: read_only, value_env: READER_TOKEN}
postgres: {enabled: true, dsn: "`+strings.ReplaceAll(dsn, `"`, `\"`)+`"}
`), "p.yaml")
		if err != nil {
			t.Fatal(err)
		}
		meta, err := EncodeMeta(prof)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"s3cr3t-PW", "adm-s3cr3t-token"} {
			if strings.Contains(string(meta), secret) {
				t.Fatalf("dsn %q: the journal's profile holds %q: %s", dsn, secret, meta)
			}
		}
		back, err := DecodeMeta(meta, "journal")
		if err != nil {
			t.Fatalf("dsn %q: the recorded profile does not parse: %v", dsn, err)
		}
		if toks := back.Admin.Tokens; len(toks) != 2 || toks[0].Role != "admin" || toks[0].Value != "" || toks[1].ValueEnv != "READER_TOKEN" {
			t.Fatalf("recorded tokens %+v", toks)
		}
		if d := back.Postgres.DSN; !strings.Contains(d, "db.example") || !strings.Contains(d, "ship") || !strings.Contains(d, Redacted) {
			t.Fatalf("recorded dsn %q", d)
		}
	}
	// The profile in use keeps its secrets.
	prof, _ := config.Parse([]byte("admin: {tokens: [{role: admin, value: \"adm-s3cr3t-token-0123456789\"}]}\n"), "p.yaml")
	EncodeMeta(prof)
	if prof.Admin.Tokens[0].Value != "adm-s3cr3t-token-0123456789" {
		t.Fatal("redaction changed the running profile")
	}
}
