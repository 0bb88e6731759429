// Package pgtest gives tests a database on a real PostgreSQL server:
// THUNDERLINE_TEST_PG_DSN's, or a throwaway cluster started with
// persist/postgres/testdata/pg-start.sh (Debian's postgresql, installed if
// missing) and purged when the test ends. Test helpers only.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

var seq atomic.Int64

// scripts is persist/postgres/testdata, found from this file's place.
func scripts() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// DSN returns the DSN of a new, empty database.
func DSN(t testing.TB) string {
	t.Helper()
	server := os.Getenv("THUNDERLINE_TEST_PG_DSN")
	if server == "" {
		// Directly under the system temp dir: the postgres user must be able
		// to reach it (t.TempDir's parents are private to root).
		dir, err := os.MkdirTemp("", "thunderline-pg-")
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(dir) // pg-start.sh creates it, owned by postgres
		run := func(name string, args ...string) string {
			cmd := exec.Command(filepath.Join(scripts(), name), args...)
			cmd.Env = append(os.Environ(), "THUNDERLINE_PG_DIR="+dir)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v\n%s%s", name, err, out, stderr.String())
			}
			return strings.TrimSpace(string(out))
		}
		server = run("pg-start.sh")
		t.Cleanup(func() { run("pg-stop.sh", "--purge") })
	}
	return newDB(t, server)
}

func newDB(t testing.TB, server string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("tl_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Cluster is a throwaway cluster a test owns, so it may stop and start it
// (an outage drill).
type Cluster struct {
	t      testing.TB
	dir    string
	Server string // the DSN of the cluster's default database
}

// Own starts a cluster of the test's own, purged when the test ends.
func Own(t testing.TB) *Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "thunderline-pg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(dir)
	c := &Cluster{t: t, dir: dir}
	c.Server = c.run("pg-start.sh")
	t.Cleanup(func() { c.run("pg-stop.sh", "--purge") })
	return c
}

func (c *Cluster) run(name string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(scripts(), name), args...)
	cmd.Env = append(os.Environ(), "THUNDERLINE_PG_DIR="+c.dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("%s: %v\n%s%s", name, err, out, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// Stop stops the server (fast shutdown); Start starts it again on the same
// port.
func (c *Cluster) Stop()  { c.run("pg-stop.sh") }
func (c *Cluster) Start() { c.run("pg-start.sh") }

// NewDB creates an empty database on the cluster and returns its DSN.
func (c *Cluster) NewDB() string { return newDB(c.t, c.Server) }
