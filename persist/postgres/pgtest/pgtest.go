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
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/persist/internal/testscript"
)

var seq atomic.Int64

// scripts is persist/postgres/testdata, found from this file's place.
func scripts() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// NewDir names a new cluster directory directly under the system temp dir
// (the postgres user must be able to reach it: t.TempDir's parents are
// private to root). pg-start.sh creates it, owned by the server's user.
func NewDir() (string, error) {
	dir, err := os.MkdirTemp("", "thunderline-pg-")
	if err != nil {
		return "", err
	}
	return dir, os.Remove(dir)
}

// Script runs a script of persist/postgres/testdata (pg-start.sh,
// pg-stop.sh) on the cluster in dir. It returns the script's stdout without
// its trailing newline (pg-start.sh prints the DSN), or, when it fails,
// its stdout and stderr.
func Script(dir, name string, args ...string) (string, error) {
	out, err := testscript.Run(filepath.Join(scripts(), name), []string{"THUNDERLINE_PG_DIR=" + dir}, args...)
	if err != nil {
		return out, err
	}
	return strings.TrimSpace(out), nil
}

// DSN returns the DSN of a new, empty database.
func DSN(t testing.TB) string {
	t.Helper()
	if server := os.Getenv("THUNDERLINE_TEST_PG_DSN"); server != "" {
		return NewDB(t, server)
	}
	return Own(t).NewDB()
}

// NewDB creates an empty database on the server of the DSN server and
// returns its DSN.
func NewDB(t testing.TB, server string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("tl_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
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
	Dir    string // its directory, for Script
	Server string // the DSN of the cluster's default database
}

// Own starts a cluster of the test's own, purged when the test ends.
func Own(t testing.TB) *Cluster {
	t.Helper()
	dir, err := NewDir()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, Dir: dir}
	c.Server = c.run("pg-start.sh")
	t.Cleanup(func() { c.run("pg-stop.sh", "--purge") })
	return c
}

func (c *Cluster) run(name string, args ...string) string {
	c.t.Helper()
	out, err := Script(c.Dir, name, args...)
	if err != nil {
		c.t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return out
}

// Stop stops the server (fast shutdown); Start starts it again on the same
// port.
func (c *Cluster) Stop()  { c.run("pg-stop.sh") }
func (c *Cluster) Start() { c.run("pg-start.sh") }

// NewDB creates an empty database on the cluster and returns its DSN.
func (c *Cluster) NewDB() string { return NewDB(c.t, c.Server) }
